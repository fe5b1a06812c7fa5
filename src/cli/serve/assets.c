/*
 * The explorer's stylesheet and script, compiled into the binary so that
 * nothing is fetched from anywhere else (served at /static/). The script
 * only adds conveniences: expand/collapse all, and Enter in a lookup field.
 */
#include "serve.h"

const char SERVE_CSS[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;"
    "background:#fafafa}\n"
    "nav{background:#1f2d3d;padding:.5em 1em;display:flex;gap:1em;"
    "align-items:baseline}\n"
    "nav a{color:#dfe6ee;text-decoration:none}nav a.brand{font-weight:bold;"
    "color:#fff}\n"
    "nav .store{margin-left:auto;color:#9fb0c2;font-size:12px}\n"
    "main{padding:1em 1.5em}h1{font-size:20px;margin:.2em 0 .6em}"
    "h2{font-size:16px}h3{font-size:14px;margin:.2em 0}\n"
    "table{border-collapse:collapse;margin:.3em 0}"
    "th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f0f2f5;font-weight:600}td.n,th.n{text-align:right}\n"
    "table.obj th{background:#f7f7f7;font-weight:normal;color:#555}\n"
    "details{margin:0 0 0 .2em}summary{cursor:pointer}\n"
    ".str{white-space:pre-wrap;color:#0a5d00}.num{color:#1a4fa0}"
    ".null{color:#999}.error{color:#b00020}\n"
    ".record{background:#fff;border:1px solid #e3e3e3;padding:.5em;"
    "margin:.5em 0}\n"
    ".key{color:#666}.tag{background:#e8eef8;border-radius:3px;"
    "padding:0 4px;font-size:12px}\n"
    ".drec{background:#fff;border-left:4px solid #ccc;padding:.3em .6em;"
    "margin:.4em 0}\n"
    ".drec.added{border-color:#2e7d32}.drec.removed{border-color:#c62828}"
    ".drec.changed{border-color:#f9a825}\n"
    "td.old{background:#fdecea}td.new{background:#e8f5e9}\n"
    "form.lookup{margin:.4em 0}form.inline{display:inline}\n"
    "ol.coll,ul.coll{margin:0;padding-left:1.6em}\n"
    "ol.history li{margin:.4em 0}\n"
    "button.toggle{margin-left:.5em;font-size:12px}\n";

const char SERVE_JS[] =
    "'use strict';\n"
    "document.addEventListener('DOMContentLoaded', function () {\n"
    "  var h = document.querySelector('main h1');\n"
    "  if (!h || !document.querySelector('details')) return;\n"
    "  var b = document.createElement('button');\n"
    "  b.className = 'toggle'; b.id = 'toggle-all';\n"
    "  b.textContent = 'collapse all';\n"
    "  b.addEventListener('click', function () {\n"
    "    var open = b.textContent === 'expand all';\n"
    "    document.querySelectorAll('details').forEach(function (d) {\n"
    "      d.open = open; });\n"
    "    b.textContent = open ? 'collapse all' : 'expand all';\n"
    "  });\n"
    "  h.appendChild(b);\n"
    "});\n";
