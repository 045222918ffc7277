// Follows a long job on its page (templates/jobs/show.html): polls /api/v1/jobs/<id> until it is done or failed.
(function () {
  var box = document.getElementById("job");
  if (!box) return;
  function update(job) {
    document.getElementById("job-progress").value = job.progress;
    document.getElementById("job-percent").textContent = Math.round(job.progress * 100) + "%";
    document.getElementById("job-message").textContent = job.message || "";
    document.getElementById("job-error").textContent = job.error || "";
    var status = document.getElementById("job-status");
    if (status.dataset.status !== job.status) {
      status.dataset.status = job.status;
      status.textContent = box.dataset["label" + job.status.charAt(0).toUpperCase() + job.status.slice(1)] || job.status;
    }
    if (job.status === "done" && job.artifact) document.getElementById("job-artifact").hidden = false;
    if (job.status === "done" && job.result && job.result.url && job.result.url.charAt(0) === "/") {
      var link = document.getElementById("job-result");
      link.href = job.result.url;
      link.hidden = false;
    }
    return job.status === "done" || job.status === "failed";
  }
  function poll() {
    fetch(box.dataset.api, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (job) { if (!update(job)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  var s = document.getElementById("job-status").dataset.status;
  if (s !== "done" && s !== "failed") poll();
})();
