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
      // A field hidden because the chosen level does not need it is not submitted.
      el.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = !show; });
    });
    // A refusal whose field is hidden is still shown, at the top of the form.
    var box = scope.querySelector(".hidden-errors");
    var hiddenErrs = scope.querySelectorAll("[data-show-for][hidden] .err");
    if (!hiddenErrs.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.className = "hidden-errors";
      box.setAttribute("role", "alert");
      scope.insertBefore(box, scope.firstElementChild);
    }
    box.textContent = "";
    hiddenErrs.forEach(function (e) {
      var p = document.createElement("p");
      p.className = "form-error";
      p.dataset.field = e.dataset.field || "";
      p.textContent = e.textContent;
      box.appendChild(p);
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
