// The application review page: the business registration PDF drawn in the page with
// pdf.js (served from node_modules, see frontend/web.py VENDOR_ASSETS), and images that
// zoom on a click. Scripting in the PDF never runs: pdf.js's core library has no
// scripting, and eval is off (the page's CSP forbids it anyway).
const PDFJS = "/static/vendor/pdfjs";

async function showPdf(viewer) {
  const canvas = viewer.querySelector("[data-pdf=canvas]");
  const label = viewer.querySelector("[data-pdf=page]");
  const error = viewer.querySelector("[data-pdf=error]");
  let pdf;
  let page = 1;
  let scale = 1;
  try {
    const pdfjs = await import(`${PDFJS}/build/pdf.min.mjs`);
    pdfjs.GlobalWorkerOptions.workerSrc = `${PDFJS}/build/pdf.worker.min.mjs`;
    pdf = await pdfjs.getDocument({
      url: viewer.dataset.pdfUrl,
      isEvalSupported: false,
      enableXfa: false,
      cMapUrl: `${PDFJS}/cmaps/`,
      cMapPacked: true,
      standardFontDataUrl: `${PDFJS}/standard_fonts/`,
      wasmUrl: `${PDFJS}/wasm/`,
    }).promise;
  } catch (exc) {
    error.hidden = false;
    console.error("pdf.js", exc);
    return;
  }
  let rendering = null;
  // Start at the width of the frame (a phone shows the whole page width), at most 150 %.
  const first = (await pdf.getPage(1)).getViewport({ scale: 1 });
  const room = canvas.parentElement.clientWidth - 16;
  if (room > 0) scale = Math.max(0.5, Math.min(1.5, room / first.width));

  async function draw() {
    if (rendering) await rendering.promise.catch(() => {});
    const current = await pdf.getPage(page);
    const ratio = window.devicePixelRatio || 1;
    const viewport = current.getViewport({ scale });
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    rendering = current.render({
      canvas,
      canvasContext: canvas.getContext("2d"),
      viewport,
      transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0],
    });
    await rendering.promise;
    label.textContent = `${page} / ${pdf.numPages}`;
    viewer.dataset.rendered = String(page);
  }

  viewer.addEventListener("click", (event) => {
    const action = event.target.closest("[data-pdf]")?.dataset.pdf;
    if (action === "prev" && page > 1) page -= 1;
    else if (action === "next" && page < pdf.numPages) page += 1;
    else if (action === "zoom-in") scale = Math.min(4, scale * 1.25);
    else if (action === "zoom-out") scale = Math.max(0.5, scale / 1.25);
    else return;
    draw().catch((exc) => console.error("pdf.js", exc));
  });
  await draw();
}

function zoom(event) {
  const button = event.target.closest(".zoomable");
  if (!button) return;
  const zoomed = button.classList.toggle("is-zoomed");
  button.setAttribute("aria-pressed", String(zoomed));
}

document.addEventListener("click", zoom);
for (const viewer of document.querySelectorAll(".pdf-viewer[data-pdf-url]")) {
  showPdf(viewer).catch((exc) => console.error("pdf.js", exc));
}
