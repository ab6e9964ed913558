(function () {
  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var FOLD = json('fold-map') || {};
  // Traditional characters folded to Simplified ones, and case: a search matches either script.
  function fold(text) {
    var out = '';
    for (var ch of String(text)) { out += FOLD[ch] || ch; }
    return out.toLowerCase();
  }
  function key(row, i) {
    var cell = row.cells[i];
    var raw = cell.getAttribute('data-value');
    if (raw !== null) { return raw === '' ? null : parseFloat(raw); }
    return cell.textContent.trim();
  }
  function compare(a, b) {
    if (a === null || a === '') { return b === null || b === '' ? 0 : 1; }
    if (b === null || b === '') { return -1; }
    if (typeof a === 'number' && typeof b === 'number') { return a - b; }
    return String(a).localeCompare(String(b), 'zh');
  }
  document.querySelectorAll('div.table').forEach(function (box) {
    var table = box.querySelector('table.data');
    var input = box.querySelector('input.filter');
    var body = table.tBodies[0];
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    input.addEventListener('input', function () {
      var query = fold(input.value.trim());
      Array.prototype.forEach.call(body.rows, function (row) {
        if (row.folded === undefined) { row.folded = fold(row.textContent); }
        row.hidden = query !== '' && row.folded.indexOf(query) < 0;
      });
    });
    heads.forEach(function (th, i) {
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var ka = key(a, i), kb = key(b, i);
          if (ka === null || ka === '' || kb === null || kb === '') { return compare(ka, kb); }
          return ascending ? compare(ka, kb) : compare(kb, ka);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  // plotly.js is evaluated once the page is shown, and each chart is drawn as it nears the viewport,
  // then the rest one by one while the reader reads: the page opens at once. When every chart is drawn,
  // <body data-charts="drawn">.
  var specs = json('chart-specs') || {charts: {}, config: {}};
  var config = specs.config;
  function plotly() {
    if (!window.Plotly) {
      var source = document.getElementById('plotly-src');
      if (!source) { return false; }
      var script = document.createElement('script');
      script.textContent = source.textContent;
      document.head.appendChild(script);
      source.remove();
    }
    return !!window.Plotly;
  }
  var waiting = Object.keys(specs.charts);
  function draw(id) {
    var at = waiting.indexOf(id);
    if (at < 0) { return; }
    waiting.splice(at, 1);
    if (plotly()) {
      var spec = specs.charts[id];
      Plotly.newPlot(id, spec.data, spec.layout, config);
    }
    if (!waiting.length) { document.body.setAttribute('data-charts', 'drawn'); }
  }
  waiting.forEach(function (id) {
    document.getElementById(id).style.minHeight = specs.charts[id].layout.height + 'px';
  });
  if (!waiting.length) { document.body.setAttribute('data-charts', 'drawn'); }
  var near = 'IntersectionObserver' in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) { near.unobserve(entry.target); draw(entry.target.id); }
    });
  }, {rootMargin: '600px'}) : null;
  function drawRest() {
    if (waiting.length) { draw(waiting[0]); setTimeout(drawRest, 30); }
  }
  setTimeout(function () {
    if (near) { waiting.forEach(function (id) { near.observe(document.getElementById(id)); }); }
    setTimeout(drawRest, 200);
  }, 0);

  var data = json('explorer-data');
  if (!data) { return; }
  var byKey = {};
  Object.keys(data.index).forEach(function (k) {
    var f = fold(k);
    if (!(f in byKey)) { byKey[f] = data.index[k]; }
  });
  var input = document.getElementById('term-query');
  var list = document.getElementById('term-list');
  data.terms.slice(0, 300).forEach(function (t) {
    var option = document.createElement('option');
    option.value = t.shown;
    list.appendChild(option);
  });
  function element(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function number(x, digits, sign) {
    if (x === null || x === undefined) { return '–'; }
    var s = Number(x).toFixed(digits);
    return sign && x > 0 ? '+' + s : s;
  }
  function link(text) {
    var a = element('a', text);
    a.href = '#term-query';
    a.addEventListener('click', function (event) {
      event.preventDefault();
      input.value = text;
      lookup();
    });
    return a;
  }
  function chart(t) {
    var box = document.getElementById('term-chart');
    if (!data.years.length) { box.hidden = true; return; }
    box.hidden = false;
    if (plotly()) {
      Plotly.react(box, [{type: 'scatter', mode: 'lines+markers', x: data.years, y: t.rates, customdata: t.counts,
                          name: t.shown, line: {color: '#4269d0'},
                          hovertemplate: '%{x}: %{y:.2f} per 10,000 tokens (%{customdata} times)<extra></extra>'}],
                   {title: {text: 'Rate of ' + t.shown + ' by year', x: 0.01, xanchor: 'left', font: {size: 14}},
                    height: 300, margin: {l: 60, r: 20, t: 40, b: 40}, font: {family: getComputedStyle(document.body).fontFamily},
                    xaxis: {tickmode: 'array', tickvals: data.years, ticktext: data.years.map(String), title: {text: 'year'}},
                    yaxis: {title: {text: 'rate per 10,000 tokens'}, rangemode: 'tozero', gridcolor: '#eef1f4'}},
                   config);
    } else {
      box.textContent = '';
      var table = element('table', null, 'rates');
      var years = element('tr'), rates = element('tr');
      data.years.forEach(function (y, i) { years.appendChild(element('th', String(y))); rates.appendChild(element('td', number(t.rates[i], 2))); });
      table.appendChild(years);
      table.appendChild(rates);
      box.appendChild(table);
    }
  }
  function show(i) {
    var t = data.terms[i];
    document.getElementById('term-title').textContent = t.shown;
    var stats = t.count.toLocaleString() + ' occurrences' + (t.undated ? ' (' + t.undated.toLocaleString() + ' undated)' : '');
    if (data.years.length) {
      stats += ' · slope ' + number(t.slope, 2, true) + ' per 10,000 tokens a year · p ' + number(t.p_value, 3) +
               ' · evidence ' + t.evidence;
    }
    if (t.forms.length) { stats += ' · also written ' + t.forms.join(' '); }
    if (t.term !== t.shown) { stats += ' · counted as ' + t.term; }
    document.getElementById('term-stats').textContent = stats;
    chart(t);
    var colloc = document.getElementById('term-collocates');
    colloc.textContent = '';
    t.collocates.forEach(function (c) {
      var item = element('li');
      item.appendChild(link(c[0]));
      item.appendChild(element('span', ' ' + c[1] + ' times, G² ' + number(c[2], 1), 'count'));
      colloc.appendChild(item);
    });
    if (!t.collocates.length) { colloc.appendChild(element('li', 'none seen twice', 'count')); }
    var kwic = document.getElementById('term-kwic');
    kwic.textContent = '';
    t.contexts.forEach(function (c) {
      var row = element('tr');
      row.appendChild(element('td', c[0], 'left'));
      row.appendChild(element('td', c[1], 'match'));
      row.appendChild(element('td', c[2]));
      var doc = element('td', c[3] || c[5], 'doc');
      doc.title = c[5];
      row.appendChild(doc);
      row.appendChild(element('td', c[4] || '–', 'count'));
      kwic.appendChild(row);
    });
  }
  function lookup() {
    var query = fold(input.value.trim());
    if (!query) { return; }
    if (query in byKey) { show(byKey[query]); return; }
    var near = [];
    for (var i = 0; i < data.terms.length && near.length < 12; i++) {
      var t = data.terms[i];
      if (fold(t.shown).indexOf(query) >= 0 || fold(t.term).indexOf(query) >= 0) { near.push(t.shown); }
    }
    document.getElementById('term-title').textContent = input.value.trim() + ': not among the terms shown';
    var stats = document.getElementById('term-stats');
    stats.textContent = near.length ? 'Terms that contain it: ' : 'No term shown contains it.';
    near.forEach(function (term) { stats.appendChild(link(term)); stats.appendChild(document.createTextNode(' ')); });
    document.getElementById('term-chart').hidden = true;
    document.getElementById('term-collocates').textContent = '';
    document.getElementById('term-kwic').textContent = '';
  }
  input.addEventListener('input', lookup);
  if (data.terms.length) { setTimeout(function () { show(0); }, 0); }
})();
