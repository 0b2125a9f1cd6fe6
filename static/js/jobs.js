/* The job page (templates/commitments/jobs/job_detail.html): polls /jobs/<id>/status.json every
 * two seconds and updates the progress bar, the step, the count, the failure message and the
 * download button, until the job has finished. No inline script or style (CSP): the bar's width
 * is a class of static/css/jobs.css. Without JavaScript the page offers a 刷新 link instead. */
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-finished") === "1") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var progress = box.querySelector("[data-job-progress]");
  var bar = box.querySelector("[data-job-bar]");
  var statusText = box.querySelector("[data-job-status]");
  var stageText = box.querySelector("[data-job-stage]");
  var count = box.querySelector("[data-job-count]");
  var error = box.querySelector("[data-job-error]");
  var download = box.querySelector("[data-job-download]");
  var INTERVAL = 2000;
  var failures = 0;

  function setWidth(percent) {
    Array.prototype.slice.call(bar.classList).forEach(function (name) {
      if (name.indexOf("job-pct-") === 0) {
        bar.classList.remove(name);
      }
    });
    bar.classList.add("job-pct-" + percent);
    bar.textContent = percent + "%";
  }

  function show(data) {
    var percent = Math.max(0, Math.min(100, parseInt(data.percent, 10) || 0));
    setWidth(percent);
    progress.setAttribute("aria-valuenow", String(percent));
    progress.setAttribute("aria-valuetext", percent + "%" + (data.total ? "（" + data.done + "/" + data.total + "）" : ""));
    statusText.textContent = data.status_label;
    stageText.textContent = data.stage && data.stage !== data.status_label ? data.stage : "";
    count.textContent = data.total ? "已完成 " + data.done + " / " + data.total : "";
    if (data.finished) {
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      bar.classList.add(data.status === "failed" ? "bg-danger" : "bg-success");
    }
    if (data.status === "failed") {
      error.textContent = data.error || "生成失败。";
      error.hidden = false;
    }
    if (data.downloadable) {
      if (data.result_name) {
        download.textContent = "下载" + data.result_name;
      }
      download.hidden = false;
      download.focus();
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        show(data);
        if (!data.finished) {
          window.setTimeout(poll, INTERVAL);
        }
      })
      .catch(function () {
        // A dropped connection or a restarting server: try again, more slowly, for a while.
        failures += 1;
        if (failures < 30) {
          window.setTimeout(poll, INTERVAL * Math.min(failures + 1, 5));
        }
      });
  }

  window.setTimeout(poll, INTERVAL);
})();
