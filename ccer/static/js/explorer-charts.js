// Issued and retired tCO2e by month, and the exchange's last 30 days, drawn with the vendored ECharts from
// the explorer's JSON endpoints (data-series); labels come from data- attributes in the page's language.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  function load(el, draw) {
    if (!el) { return; }
    fetch(el.dataset.series).then(function (r) { return r.json(); }).then(function (data) { draw(el, data); });
  }
  load(document.getElementById("chart-credits"), function (el, d) {
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [el.dataset.issued, el.dataset.retired] },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", name: el.dataset.unit },
      series: [
        { name: el.dataset.issued, type: "bar", data: d.issued, itemStyle: { color: "#1f5f3a" } },
        { name: el.dataset.retired, type: "bar", data: d.retired, itemStyle: { color: "#c27c0e" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
  load(document.getElementById("chart-market"), function (el, rows) {
    var traded = rows.filter(function (r) { return r.volume > 0; });
    if (!traded.length) { el.textContent = el.dataset.empty; el.classList.add("empty"); return; }
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: [el.dataset.volume, el.dataset.vwap] },
      xAxis: { type: "category", data: rows.map(function (r) { return r.day; }) },
      yAxis: [{ type: "value", name: "tCO2e" }, { type: "value", name: "CNY/t" }],
      series: [
        { name: el.dataset.volume, type: "bar", data: rows.map(function (r) { return r.volume; }), itemStyle: { color: "#1f5f3a" } },
        { name: el.dataset.vwap, type: "line", yAxisIndex: 1, connectNulls: true,
          data: rows.map(function (r) { return r.vwap == null ? null : r.vwap / 100; }) }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
