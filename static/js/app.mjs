// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "../vendor/govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();

// Leaving a form with unsaved typing asks first. A form marked "typed" came back with a problem,
// so what it holds is not saved yet.
for (const form of document.querySelectorAll("form[data-app-unsaved]")) {
  let unsaved = form.dataset.appUnsaved === "typed";
  form.addEventListener("input", () => { unsaved = true; });
  form.addEventListener("change", () => { unsaved = true; });
  form.addEventListener("submit", () => { unsaved = false; });
  window.addEventListener("beforeunload", (event) => {
    if (unsaved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}
