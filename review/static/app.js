// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("input.select-all")) {
    box.addEventListener("change", () => {
      for (const item of box.closest("form").querySelectorAll('input[name="item"]')) item.checked = box.checked;
    });
  }
  for (const button of document.querySelectorAll("button.danger")) {
    button.addEventListener("click", (event) => { if (!confirm(button.textContent + "?")) event.preventDefault(); });
  }
});
