// Practitioner colours come from the database. The Content Security Policy
// forbids inline style attributes, so they are set here through the CSSOM.
document.querySelectorAll("[data-colour]").forEach(function (element) {
  if (/^#[0-9a-fA-F]{6}$/.test(element.dataset.colour)) {
    element.style.setProperty("--pc", element.dataset.colour);
  }
});

// Click an empty cell to book there; drag an appointment to another time to
// move it. Both only lead to the booking pages, whose confirm step shows
// every rule's verdict before anything is saved (keyboard users book and
// move through the same pages: Book, and Move on an appointment).
(function () {
  var grid = document.querySelector("table.calendar-grid");
  if (!grid) return;
  var heads = Array.prototype.slice.call(grid.querySelectorAll("thead th.cal-head"));
  var rows = Array.prototype.slice.call(grid.querySelectorAll("tbody tr"));
  var ROW_MINUTES = 5;

  // The column under a cell, by position: rowspans make cellIndex useless.
  function columnOf(cell) {
    var box = cell.getBoundingClientRect();
    var middle = box.left + box.width / 2;
    return heads.filter(function (head) {
      var h = head.getBoundingClientRect();
      return h.left <= middle && middle < h.right;
    })[0];
  }

  // The time of a row: the nearest labelled row above it, plus 5 minutes a row.
  function timeOf(row) {
    var index = rows.indexOf(row);
    for (var i = index; i >= 0; i--) {
      var label = rows[i].querySelector("th.time-col").textContent.trim();
      if (/^\d\d:\d\d$/.test(label)) {
        var minutes = parseInt(label.slice(0, 2), 10) * 60 + parseInt(label.slice(3), 10);
        minutes += (index - i) * ROW_MINUTES;
        var hh = String(Math.floor(minutes / 60)).padStart(2, "0");
        var mm = String(minutes % 60).padStart(2, "0");
        return hh + ":" + mm;
      }
    }
    return null;
  }

  function slotOf(cell) {
    var head = columnOf(cell);
    var time = timeOf(cell.parentElement);
    if (!head || !time || !head.dataset.practitioner) return null;
    return new URLSearchParams({
      practitioner: head.dataset.practitioner,
      date: head.dataset.date,
      time: time,
    });
  }

  if (grid.dataset.bookUrl) {
    grid.querySelectorAll("td.free").forEach(function (cell) {
      cell.title = "Book here";
    });
    grid.addEventListener("click", function (event) {
      var cell = event.target.closest("td.free");
      if (!cell) return;
      var slot = slotOf(cell);
      if (slot) window.location.assign(grid.dataset.bookUrl + "?" + slot.toString());
    });
  }

  if (grid.hasAttribute("data-movable")) {
    var dragged = null;
    grid.querySelectorAll("td.status-booked a.appt-block").forEach(function (block) {
      block.draggable = true;
      block.addEventListener("dragstart", function (event) {
        dragged = block.getAttribute("href");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", dragged);
      });
    });
    grid.addEventListener("dragover", function (event) {
      if (dragged && event.target.closest("td.free")) event.preventDefault();
    });
    grid.addEventListener("drop", function (event) {
      var cell = event.target.closest("td.free");
      if (!dragged || !cell) return;
      event.preventDefault();
      var slot = slotOf(cell);
      if (slot) window.location.assign(dragged + "move/time/?" + slot.toString());
    });
  }
})();
