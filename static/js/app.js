/* ShopVideo dashboard: small progressive enhancements. No inline scripts (the CSP forbids them); every
   feature finds its elements by data attributes and the page works without JavaScript, only less nicely. */
(function () {
  "use strict";

  /* --- Drag-and-drop multi-upload with previews and upload progress --------------------------------- */
  function initUpload(root) {
    const form = root.querySelector("[data-upload-form]");
    if (!form) return;
    const zone = form.querySelector("[data-dropzone]");
    const input = zone.querySelector("input[type=file]");
    const previews = zone.querySelector(".previews");
    let chosen = new DataTransfer();

    function render() {
      previews.textContent = "";
      Array.from(chosen.files).forEach(function (file, index) {
        const li = document.createElement("li");
        const img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
        const name = document.createElement("span");
        name.textContent = file.name;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "small";
        remove.textContent = "×";
        remove.setAttribute("aria-label", (zone.dataset.removeLabel || "Remove") + " " + file.name);
        remove.addEventListener("click", function () {
          const next = new DataTransfer();
          Array.from(chosen.files).forEach(function (f, i) { if (i !== index) next.items.add(f); });
          chosen = next;
          input.files = chosen.files;
          render();
        });
        li.append(img, name, remove);
        previews.append(li);
      });
    }

    function add(files) {
      Array.from(files).forEach(function (f) { chosen.items.add(f); });
      input.files = chosen.files;
      render();
    }

    input.addEventListener("change", function () {
      // Files picked with the dialog replace the drop list (what a file input normally does).
      chosen = new DataTransfer();
      add(input.files);
    });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("is-over"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("is-over");
      if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const box = document.getElementById("upload-progress");
      const bar = document.getElementById("upload-bar");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) {
          window.location.assign(xhr.getResponseHeader("Location")); // created: on to the product
          return;
        }
        // Errors: show the page the server rendered, messages and all.
        const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        const main = document.getElementById("main");
        const fresh = doc.getElementById("main");
        if (main && fresh) {
          main.innerHTML = fresh.innerHTML;
          initUpload(main);
          main.focus();
        }
      });
      xhr.addEventListener("error", function () { form.submit(); });
      box.hidden = false;
      xhr.send(new FormData(form));
    });
  }

  /* --- Cutout preview: the photo through its mask, over a checkerboard -------------------------------- */
  function loadImage(url) {
    return new Promise(function (resolve, reject) {
      const img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = url;
    });
  }

  function maskToAlpha(maskImg, w, h, rgb) {
    // The stored mask is opaque white-on-black; the editor keeps it as a colour whose alpha is the mask.
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    const ctx = c.getContext("2d");
    ctx.drawImage(maskImg, 0, 0, w, h);
    const data = ctx.getImageData(0, 0, w, h);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      const a = px[i];
      px[i] = rgb[0];
      px[i + 1] = rgb[1];
      px[i + 2] = rgb[2];
      px[i + 3] = a;
    }
    ctx.putImageData(data, 0, 0);
    return c;
  }

  function initCutouts(root) {
    root.querySelectorAll("canvas[data-cutout]").forEach(function (canvas) {
      Promise.all([loadImage(canvas.dataset.photoUrl), loadImage(canvas.dataset.maskUrl)]).then(function (imgs) {
        const w = canvas.width, h = canvas.height;
        const ctx = canvas.getContext("2d");
        ctx.drawImage(maskToAlpha(imgs[1], w, h, [0, 0, 0]), 0, 0);
        ctx.globalCompositeOperation = "source-in";
        ctx.drawImage(imgs[0], 0, 0, w, h);
      });
    });
  }

  /* --- Mask touch-up: brush add/remove over the photo, saved back as the photo's supplied mask ---------- */
  const TINT = [36, 81, 214];

  function initMaskEditors(root) {
    root.querySelectorAll("form[data-mask-editor]").forEach(function (form) {
      const w = parseInt(form.dataset.width, 10), h = parseInt(form.dataset.height, 10);
      const canvas = form.querySelector("[data-canvas]");
      const status = form.querySelector("[data-status]");
      const sizeInput = form.querySelector("[data-brush-size]");
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext("2d");
      let photo = null, maskImg = null, mask = null, drawing = false, last = null;

      function redraw() {
        ctx.globalAlpha = 1;
        ctx.clearRect(0, 0, w, h);
        ctx.drawImage(photo, 0, 0, w, h);
        ctx.globalAlpha = 0.45;
        ctx.drawImage(mask, 0, 0);
        ctx.globalAlpha = 1;
      }

      function reset() {
        mask = maskToAlpha(maskImg, w, h, TINT);
        redraw();
      }

      function mode() {
        const checked = form.querySelector("[data-brush-mode]:checked");
        return checked ? checked.value : "add";
      }

      function point(event) {
        const r = canvas.getBoundingClientRect();
        return { x: ((event.clientX - r.left) * w) / r.width, y: ((event.clientY - r.top) * h) / r.height };
      }

      function stroke(from, to) {
        // The brush size is in screen pixels, so it feels the same on a big photo shown small.
        const scale = w / canvas.getBoundingClientRect().width;
        const m = mask.getContext("2d");
        m.globalCompositeOperation = mode() === "add" ? "source-over" : "destination-out";
        m.strokeStyle = "rgb(" + TINT.join(",") + ")";
        m.lineCap = "round";
        m.lineJoin = "round";
        m.lineWidth = parseInt(sizeInput.value, 10) * scale;
        m.beginPath();
        m.moveTo(from.x, from.y);
        m.lineTo(to.x + 0.01, to.y);
        m.stroke();
        redraw();
      }

      canvas.addEventListener("pointerdown", function (event) {
        if (!mask) return;
        drawing = true;
        canvas.setPointerCapture(event.pointerId);
        last = point(event);
        stroke(last, last);
      });
      canvas.addEventListener("pointermove", function (event) {
        if (!drawing) return;
        const p = point(event);
        stroke(last, p);
        last = p;
      });
      ["pointerup", "pointercancel"].forEach(function (type) {
        canvas.addEventListener(type, function () { drawing = false; });
      });
      form.querySelector("[data-undo-all]").addEventListener("click", reset);

      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!mask) return;
        // Export white where the product is, black elsewhere, at the photo's size.
        const out = document.createElement("canvas");
        out.width = w;
        out.height = h;
        const o = out.getContext("2d");
        const white = document.createElement("canvas");
        white.width = w;
        white.height = h;
        const wc = white.getContext("2d");
        wc.drawImage(mask, 0, 0);
        wc.globalCompositeOperation = "source-in";
        wc.fillStyle = "#fff";
        wc.fillRect(0, 0, w, h);
        o.fillStyle = "#000";
        o.fillRect(0, 0, w, h);
        o.drawImage(white, 0, 0);
        status.textContent = form.dataset.savingLabel || "…";
        out.toBlob(function (blob) {
          const data = new FormData();
          data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
          data.append("mask", blob, "mask.png");
          // Not following the redirect leaves the outcome message for the reloaded page to show.
          fetch(form.action, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" })
            .then(function () { window.location.reload(); });
        }, "image/png");
      });

      Promise.all([loadImage(form.dataset.photoUrl), loadImage(form.dataset.maskUrl)]).then(function (imgs) {
        photo = imgs[0];
        maskImg = imgs[1];
        reset();
        form.dataset.ready = "true";
      });
    });
  }

  /* --- Box tool: a rough box and keep/remove strokes → the guided cutout, previewed live, saved as the mask -- */
  function initBoxEditors(root) {
    root.querySelectorAll("form[data-box-editor]").forEach(function (form) {
      const w = parseInt(form.dataset.width, 10), h = parseInt(form.dataset.height, 10);
      const canvas = form.querySelector("[data-box-canvas]");
      const status = form.querySelector("[data-box-status]");
      const save = form.querySelector("[data-box-save]");
      const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext("2d");
      let photo = null, overlay = null, box = null, keep = [], remove = [];
      let dragging = null, stroke = null, timer = null, asked = 0, shown = 0;

      function tool() {
        const checked = form.querySelector("[data-box-tool]:checked");
        return checked ? checked.value : "box";
      }

      function point(event) {
        const r = canvas.getBoundingClientRect();
        const x = ((event.clientX - r.left) * w) / r.width, y = ((event.clientY - r.top) * h) / r.height;
        return [Math.max(0, Math.min(w, Math.round(x))), Math.max(0, Math.min(h, Math.round(y)))];
      }

      function normalBox() {
        if (!box) return null;
        return [Math.min(box[0], box[2]), Math.min(box[1], box[3]), Math.max(box[0], box[2]), Math.max(box[1], box[3])];
      }

      function redraw() {
        const scale = w / Math.max(1, canvas.getBoundingClientRect().width);
        ctx.clearRect(0, 0, w, h);
        if (photo) ctx.drawImage(photo, 0, 0, w, h);
        if (overlay) ctx.drawImage(overlay, 0, 0, w, h);
        ctx.lineWidth = 2 * scale;
        const b = normalBox();
        if (b) {
          ctx.setLineDash([8 * scale, 6 * scale]);
          ctx.strokeStyle = "#fff";
          ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
          ctx.setLineDash([]);
        }
        [[keep, "rgba(40, 180, 90, 0.9)"], [remove, "rgba(220, 50, 60, 0.9)"]].forEach(function (item) {
          ctx.strokeStyle = item[1];
          ctx.lineWidth = 6 * scale;
          ctx.lineCap = "round";
          item[0].forEach(function (line) {
            ctx.beginPath();
            ctx.moveTo(line[0][0], line[0][1]);
            line.forEach(function (p) { ctx.lineTo(p[0] + 0.01, p[1]); });
            ctx.stroke();
          });
        });
      }

      function body() {
        return JSON.stringify({ box: normalBox(), keep: keep, remove: remove });
      }

      function post(url) {
        return fetch(url, {
          method: "POST",
          body: body(),
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        });
      }

      function preview() {
        const ticket = ++asked;
        status.textContent = form.dataset.cuttingLabel || "…";
        post(form.dataset.previewUrl).then(function (response) {
          if (!response.ok) {
            return response.json().then(function (data) {
              if (ticket !== asked) return;
              overlay = null;
              status.textContent = data.error.message;
              save.disabled = true;
              redraw();
            });
          }
          return response.blob().then(function (blob) {
            return loadImage(URL.createObjectURL(blob));
          }).then(function (img) {
            if (ticket < shown) return; // an older answer arriving late
            shown = ticket;
            overlay = img;
            status.textContent = "";
            save.disabled = false;
            redraw();
            form.dataset.preview = String(ticket);
          });
        });
      }

      function later() {
        clearTimeout(timer);
        timer = setTimeout(preview, 120);
      }

      canvas.addEventListener("pointerdown", function (event) {
        if (!photo) return;
        canvas.setPointerCapture(event.pointerId);
        const p = point(event);
        if (tool() === "box") {
          box = [p[0], p[1], p[0], p[1]];
          dragging = true;
        } else {
          if (!box) return;
          stroke = [p];
          (tool() === "keep" ? keep : remove).push(stroke);
        }
        redraw();
      });
      canvas.addEventListener("pointermove", function (event) {
        const p = point(event);
        if (dragging) {
          box[2] = p[0];
          box[3] = p[1];
          redraw();
        } else if (stroke) {
          stroke.push(p);
          redraw();
        }
      });
      ["pointerup", "pointercancel"].forEach(function (type) {
        canvas.addEventListener(type, function () {
          if (dragging || stroke) later();
          dragging = false;
          stroke = null;
        });
      });
      form.querySelector("[data-box-reset]").addEventListener("click", function () {
        box = null;
        keep = [];
        remove = [];
        overlay = null;
        save.disabled = true;
        status.textContent = "";
        redraw();
      });

      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!box) return;
        save.disabled = true;
        status.textContent = form.dataset.savingLabel || "…";
        post(form.action).then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) {
              status.textContent = data.error.message;
              save.disabled = false;
              return;
            }
            // The page shows the saved mask and the outcome message; the same page only needs a reload.
            const target = new URL(data.redirect, window.location.href);
            if (target.pathname === window.location.pathname) {
              window.location.hash = target.hash;
              window.location.reload();
            } else {
              window.location.assign(target.href);
            }
          });
        });
      });

      loadImage(form.dataset.photoUrl).then(function (img) {
        photo = img;
        redraw();
        form.dataset.ready = "true";
      });
    });
  }

  /* --- Platform presets: tick the aspect ratios a platform uses ---------------------------------------- */
  function initPresets(root) {
    root.querySelectorAll("[data-aspects]").forEach(function (button) {
      button.addEventListener("click", function () {
        const form = button.closest("form");
        const wanted = button.dataset.aspects.split(" ");
        form.querySelectorAll("input[name=aspect_ratios]").forEach(function (box) {
          if (wanted.indexOf(box.value) >= 0) box.checked = true;
        });
        form.dispatchEvent(new Event("change", { bubbles: true })); // refresh the live cost
      });
    });
  }

  /* --- Model looks: only an engine that draws a person takes them (data-needs-engine) --------------------- */
  function initLookEngines(root) {
    root.querySelectorAll("input[data-needs-engine]").forEach(function (box) {
      const form = box.closest("form");
      const engines = box.dataset.needsEngine.split(" ");
      function update() {
        const chosen = form.querySelector("input[name=engine]:checked");
        const ok = chosen && engines.indexOf(chosen.value) >= 0;
        box.disabled = !ok;
        if (!ok) box.checked = false;
      }
      form.querySelectorAll("input[name=engine]").forEach(function (radio) { radio.addEventListener("change", update); });
      update();
    });
  }

  /* --- Gallery: only one video plays at a time ---------------------------------------------------------- */
  function initPlayers(root) {
    root.addEventListener("play", function (event) {
      root.querySelectorAll("video").forEach(function (v) { if (v !== event.target) v.pause(); });
    }, true);
  }

  /* --- File pickers drawn as our own button: show the chosen file's name beside it ------------------------ */
  function initFileNames(root) {
    root.querySelectorAll(".file-picker input[type=file]").forEach(function (input) {
      const form = input.closest("form");
      const shown = form && form.querySelector("[data-file-name]");
      if (!shown) return;
      input.addEventListener("change", function () {
        shown.textContent = Array.from(input.files).map(function (f) { return f.name; }).join(", ");
      });
    });
  }

  /* --- Phones: the header's menu folds behind a Menu button -------------------------------------------- */
  function initMenu() {
    const toggle = document.querySelector(".menu-toggle");
    const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    document.documentElement.classList.add("js-menu");
    toggle.addEventListener("click", function () {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    });
  }

  /* --- The top bar's "More" menu closes on Escape and on a click elsewhere (it opens and closes without JS) -- */
  function initNavMore() {
    const more = document.querySelector(".nav-more");
    if (!more) return;
    document.addEventListener("click", function (event) {
      if (more.open && !more.contains(event.target)) more.open = false;
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && more.open) {
        more.open = false;
        more.querySelector("summary").focus();
      }
    });
  }

  /* --- The ad's storyboard: a scene picked is posted at once (without JS, "Update storyboard" does it) -------- */
  function initStoryboard(root) {
    root.querySelectorAll("#storyboard [data-shot-scene]").forEach(function (select) {
      select.addEventListener("change", function () {
        const form = select.form;
        const update = form.querySelector("[data-update-storyboard]");
        if (form.requestSubmit && update) form.requestSubmit(update); else if (update) update.click();
      });
    });
  }

  function init(root) {
    initFileNames(root);
    initStoryboard(root);
    initUpload(root);
    initCutouts(root);
    initMaskEditors(root);
    initBoxEditors(root);
    initPresets(root);
    initLookEngines(root);
    initPlayers(root);
  }

  document.addEventListener("DOMContentLoaded", function () { initMenu(); initNavMore(); init(document); });
})();
