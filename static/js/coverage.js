/* Charts of the coverage dashboard (覆盖情况), drawn with the vendored Apache ECharts.
 * Progressive enhancement only: the tables on the page hold the same figures and are the
 * source of truth; without JavaScript the chart boxes stay hidden. No inline scripts (CSP):
 * the figures come from the json_script tag #coverage-data. */
(function () {
  "use strict";
  var dataTag = document.getElementById("coverage-data");
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
  if (!dataTag || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(dataTag.textContent);
  var RED = "#a51c1c", RUST = "#c8553d", GOLD = "#d4a017", SAND = "#ecd9a8", GREY = "#b9b4ad";
  var FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  var charts = [];
  // Tooltips drawn inside the SVG as rich text, not as HTML: ECharts' HTML tooltips carry
  // style="" attributes (the colour markers), which the Content-Security-Policy forbids.
  var TOOLTIP = { renderMode: "richText", confine: true };

  function tooltip(option) {
    var merged = {};
    [TOOLTIP, option].forEach(function (o) {
      Object.keys(o).forEach(function (k) { merged[k] = o[k]; });
    });
    return merged;
  }

  function draw(name, height, option) {
    var box = document.querySelector('[data-chart="' + name + '"]');
    if (!box) {
      return;
    }
    box.hidden = false;
    box.style.height = height + "px";
    box.style.width = "100%";
    // SVG keeps the text sharp on paper and is selectable; the locale gives Chinese tooltips.
    var chart = window.echarts.init(box, null, { renderer: "svg", locale: "ZH" });
    option.textStyle = { fontFamily: FONT };
    option.animation = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    chart.setOption(option);
    charts.push(chart);
  }

  // One horizontal bar per child, each stacked to 100 %; the tooltip gives the counts.
  function percentBars(name, names, series) {
    var totals = names.map(function (_, i) {
      return series.reduce(function (sum, s) { return sum + s.values[i]; }, 0);
    });
    draw(name, Math.max(160, 34 * names.length + 90), {
      color: series.map(function (s) { return s.color; }),
      legend: { top: 0, itemWidth: 14, itemHeight: 10 },
      grid: { left: 8, right: 16, top: 34, bottom: 8, containLabel: true },
      tooltip: tooltip({
        trigger: "axis", axisPointer: { type: "shadow" },
        formatter: function (items) {
          var i = items[0].dataIndex;
          var lines = [names[i] + "（共 " + totals[i] + "）"];
          items.forEach(function (it) {
            lines.push(it.marker + it.seriesName + "：" + series[it.seriesIndex].values[i]);
          });
          return lines.join("\n");
        }
      }),
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: {
        type: "category", inverse: true, data: names,
        axisLabel: { width: 150, overflow: "truncate" }
      },
      series: series.map(function (s) {
        return {
          name: s.name, type: "bar", stack: "all", barMaxWidth: 22,
          data: s.values.map(function (v, i) {
            return totals[i] ? Math.round(1000 * v / totals[i]) / 10 : 0;
          })
        };
      })
    });
  }

  var children = data.children;
  if (children && children.names.length) {
    var chartsBox = document.querySelector("[data-charts]");
    if (chartsBox) {
      chartsBox.hidden = false;
    }
    var m = children.members;
    percentBars("members", children.names, [
      { name: "已承诺", values: m.pledged, color: RED },
      { name: "免于承诺", values: m.exempt, color: GOLD },
      { name: "延期待补课", values: m.deferred, color: SAND },
      { name: "空白点", values: m.blank, color: GREY }
    ]);
    var o = children.orgs;
    percentBars("orgs", children.names, [
      { name: "已公开", values: o.published, color: RED },
      { name: "已审定", values: o.approved, color: RUST },
      { name: "待审核或退回修改", values: o.submitted, color: GOLD },
      { name: "草稿未提交", values: o.drafting, color: SAND },
      { name: "尚未填写", values: o.none, color: GREY }
    ]);
  }

  if (data.funnel) {
    var top = Math.max.apply(null, data.funnel.map(function (f) { return f.value; }).concat([1]));
    draw("funnel", 300, {
      color: [RED, RUST, "#d9722f", GOLD, "#c9a13a", "#8a6d1f"],
      tooltip: tooltip({ trigger: "item", formatter: "{b}：{c} 份" }),
      series: [{
        name: "五步推进", type: "funnel", sort: "none", min: 0, max: top, minSize: "6%",
        left: "2%", width: "58%", top: 8, bottom: 8, gap: 2,
        // Labels beside the funnel: the narrow steps at the bottom stay readable.
        label: { position: "right", formatter: "{b}  {c}", color: "#333" },
        labelLine: { length: 12, lineStyle: { color: "#999" } },
        data: data.funnel
      }]
    });
  }

  if (data.satisfaction) {
    draw("satisfaction", 240, {
      color: [RED, GOLD, GREY],
      tooltip: tooltip({ trigger: "item", formatter: function (p) { return p.name + "：" + p.value + " 票（" + p.percent.toFixed(1) + "%）"; } }),
      legend: { bottom: 0 },
      series: [{
        name: "群众评议", type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
        label: { formatter: function (p) { return p.name + "\n" + p.value + " 票（" + p.percent.toFixed(1) + "%）"; } },
        data: data.satisfaction
      }]
    });
  }

  function resize() {
    charts.forEach(function (c) { c.resize(); });
  }
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
})();
