from kefu_corpus.cli import main

main()
