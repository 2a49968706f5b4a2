// Draws every ECharts chart declared as <div class="chart" data-option='{...}'>, also after htmx swaps.
(function () {
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll(".chart[data-option]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var chart = echarts.init(el, null, { renderer: "canvas" });
      var option = JSON.parse(el.dataset.option);
      option.animation = false; // drawn at once: printed reports and screenshots show the final chart
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  // Buttons marked data-print print the page (no inline onclick: the Content-Security-Policy forbids it).
  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest("[data-print]") : null;
    if (el) { e.preventDefault(); window.print(); }
  });
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();

// Steps that end or send back a case ask first: <form data-confirm="question">.
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) e.preventDefault();
});
