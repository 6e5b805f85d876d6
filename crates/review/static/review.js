// capsurvey review site: keyboard shortcuts, crop highlights, facility search. No dependencies.
(function () {
  'use strict';

  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    if (el.tagName !== 'INPUT') return false;
    return ['checkbox', 'radio', 'button', 'submit', 'reset'].indexOf(el.type) < 0;
  }

  // Elements with data-key="1" (or a list: "Enter Space") are clicked by that key, unless the
  // person is typing in a field (Esc leaves the field) or has focused a button themselves.
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    var active = document.activeElement;
    if (typing(active)) {
      if (e.key === 'Escape') active.blur();
      return;
    }
    var key = e.key === ' ' ? 'Space' : e.key;
    if ((key === 'Enter' || key === 'Space') && active && (active.tagName === 'BUTTON' || active.tagName === 'A')) return;
    if (!/^[A-Za-z0-9]+$/.test(key)) return;
    var target = document.querySelector('[data-key~="' + key + '"]');
    if (!target || target.disabled) return;
    e.preventDefault();
    if (target.tagName === 'A') {
      window.location.href = target.href;
    } else {
      target.click();
    }
  });

  // The highlighted boxes are given in crop pixels; place them once the image's size is known.
  function placeBoxes(img) {
    var w = img.naturalWidth, h = img.naturalHeight;
    if (!w || !h) return;
    img.parentNode.querySelectorAll('.hl').forEach(function (b) {
      var d = b.dataset;
      b.style.left = (100 * d.x / w) + '%';
      b.style.top = (100 * d.y / h) + '%';
      b.style.width = (100 * d.w / w) + '%';
      b.style.height = (100 * d.h / h) + '%';
      b.hidden = false;
    });
  }
  document.querySelectorAll('img[data-crop]').forEach(function (img) {
    if (img.complete) placeBoxes(img);
    img.addEventListener('load', function () { placeBoxes(img); });
  });

  // Typed values are selected, so typing replaces the machine's reading.
  document.querySelectorAll('input[data-select]').forEach(function (i) {
    i.addEventListener('focus', function () { i.select(); });
    if (document.activeElement === i) i.select();
  });

  document.querySelectorAll('select[data-autosubmit]').forEach(function (s) {
    s.addEventListener('change', function () { s.form.submit(); });
  });

  // One decision per click: buttons are disabled once a form is on its way.
  document.querySelectorAll('form[method=post]').forEach(function (f) {
    f.addEventListener('submit', function () {
      setTimeout(function () {
        f.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  document.querySelectorAll('.bar[data-pct]').forEach(function (b) {
    b.style.width = (6 * parseFloat(b.dataset.pct) / 100) + 'rem';
  });

  // Facility search for unidentified pages: suggestions by code or name.
  var search = document.querySelector('input[data-facility-search]');
  if (search) {
    var list = document.getElementById(search.getAttribute('list'));
    var timer = null;
    search.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch('/facilities/search?q=' + encodeURIComponent(search.value), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = '';
            items.forEach(function (f) {
              var o = document.createElement('option');
              o.value = f.code;
              o.label = f.name + (f.address ? '　' + f.address : '');
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  }
})();
