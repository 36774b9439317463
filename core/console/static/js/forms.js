// Derived forms: show a field only for the choices that need it (data-show-for lists the
// grade levels or outcomes; without script every field stays visible), and let files be
// dropped on an upload form's drop zone.
(function () {
  function sync(scope) {
    scope.querySelectorAll("[data-show-for]").forEach(function (el) {
      var holder = el.closest("[data-line]") || el.closest("form");
      var pick = holder && holder.querySelector("select[name$='grade'], select[name='decision']");
      var chosen = [];
      holder.querySelectorAll("select[name$='grade'], select[name='decision']").forEach(function (s) { chosen.push(s.value); });
      var wanted = el.dataset.showFor.split(" ");
      var show = !pick || chosen.some(function (v) { return wanted.indexOf(v) >= 0; });
      if (el.dataset.showFor === "overturned") {
        var d = holder.querySelector("select[name='decision']");
        show = !d || d.value === "overturned";
      }
      el.hidden = !show;
    });
  }
  document.addEventListener("change", function (e) { var f = e.target.closest("form"); if (f) sync(f); });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(sync);
    document.querySelectorAll(".drop").forEach(function (zone) {
      var input = zone.querySelector("input[type=file]");
      var list = zone.querySelector(".picked");
      function show() { if (list) list.textContent = Array.prototype.map.call(input.files, function (f) { return f.name; }).join("、"); }
      input.addEventListener("change", show);
      zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
      zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
      zone.addEventListener("drop", function (e) {
        e.preventDefault(); zone.classList.remove("over");
        var dt = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
        Array.prototype.forEach.call(e.dataTransfer.files, function (f) { dt.items.add(f); });
        input.files = dt.files; show();
      });
    });
  });
})();
