// The ticket page's Print button: shown only when scripts run; without them the page says how to print instead.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
  document.querySelectorAll("[data-print-hint]").forEach((hint) => { hint.hidden = true; });
});
