"""The pure work of each stage on one batch (documents, passages or a slice of tokens in, Arrow tables
out): no file is read or written here. The stages' runners (:mod:`kefu_corpus.stages`) do the I/O and
send these functions to the workers."""
