// Buy page: show the area-code field for US/CA and the city-code field elsewhere.
(function () {
  "use strict";
  var select = document.querySelector("select[data-country-select]");
  if (!select) return;
  function sync() {
    var option = select.options[select.selectedIndex];
    var kind = option ? option.getAttribute("data-code-kind") : "area";
    document.querySelectorAll("[data-code-field]").forEach(function (field) {
      field.hidden = field.getAttribute("data-code-field") !== kind;
    });
  }
  select.addEventListener("change", sync);
  sync();
})();
