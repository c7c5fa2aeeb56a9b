// peer web UI. Plain JavaScript, no build step: it calls the daemon's JSON
// API under /api/v1 with the session cookie and, for changes, the
// session's CSRF token. Everything shown is put in with textContent, never
// as HTML.
'use strict';

const API = '/api/v1';
let csrf = '';
let viewGen = 0; // bumped on every navigation: a stale view stops its work

// ---- small helpers ----

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

// show replaces node's children with kids, leaving out null and false.
function show(node, ...kids) {
  node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

function bytes(n) {
  if (n === undefined || n === null) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return (i === 0 ? v.toFixed(0) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
}

function when(t) {
  if (!t || t.startsWith('0001-')) return '';
  const d = new Date(t);
  if (isNaN(d)) return '';
  return dateFormat.format(d);
}

// One formatter for all dates: making one per call costs a listing of
// 1 000 files most of its time.
const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function short(id) {
  return id && id.length > 16 ? id.slice(0, 8) + '…' + id.slice(-6) : (id || '');
}

function joinPath(dir, name) {
  return (dir === '/' ? '' : dir) + '/' + name;
}

function parentOf(p) {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function baseOf(p) {
  return p.slice(p.lastIndexOf('/') + 1);
}

let toastTimer = 0;
function toast(msg, isError, ms) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = isError ? 'error' : '';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, ms || (isError ? 8000 : 3500));
}

// ask shows the page's dialog: a question, with a text field when value is
// a string. It resolves to the text (or true) on OK, null on Cancel.
function ask(title, text, value, okLabel) {
  const dlg = document.getElementById('dialog');
  const input = document.getElementById('dialog-input');
  document.getElementById('dialog-title').textContent = title;
  document.getElementById('dialog-text').textContent = text || '';
  document.getElementById('dialog-ok').textContent = okLabel || 'OK';
  input.hidden = typeof value !== 'string';
  input.value = typeof value === 'string' ? value : '';
  return new Promise((resolve) => {
    const form = document.getElementById('dialog-form');
    const cancel = document.getElementById('dialog-cancel');
    const done = (v) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      resolve(v);
    };
    const onSubmit = (ev) => { ev.preventDefault(); done(input.hidden ? true : input.value); };
    const onCancel = (ev) => { ev.preventDefault(); done(null); };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
    if (!input.hidden) {
      input.focus();
      const dot = input.value.lastIndexOf('.');
      input.setSelectionRange(0, dot > 0 ? dot : input.value.length);
    }
  });
}

// ---- the API ----

async function api(method, path, params, body, type) {
  let url = API + path;
  if (params) url += '?' + new URLSearchParams(params);
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (type) headers['Content-Type'] = type;
  const res = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  if (res.status === 401) {
    location.href = '/login';
    throw new Error('the session ended: log in again');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) throw new Error((data && data.error) || res.status + ' ' + res.statusText);
  return data;
}

function fileURL(p, version) {
  return API + '/vault/get?path=' + encodeURIComponent(p) + (version ? '&version=' + encodeURIComponent(version) : '');
}

// ---- tar: uploads go to POST /vault/add as a tar stream. The Blob is
// made of the files themselves, so the browser streams them from disk;
// nothing is read into memory here. ----

const enc = new TextEncoder();

function octal(n, len) {
  return n.toString(8).padStart(len - 1, '0') + '\0';
}

function paxRecord(key, value) {
  const rest = ' ' + key + '=' + value + '\n';
  const restLen = enc.encode(rest).length;
  let n = restLen + 1;
  while (String(n).length + restLen !== n) n = String(n).length + restLen;
  return n + rest;
}

function tarHeader(name, size, mtime, type) {
  const h = new Uint8Array(512);
  const put = (off, len, s) => { const b = enc.encode(s); h.set(b.subarray(0, len), off); };
  put(0, 100, name);
  put(100, 8, '0000644\0');
  put(108, 8, '0000000\0');
  put(116, 8, '0000000\0');
  put(124, 12, octal(size, 12));
  put(136, 12, octal(Math.max(0, Math.floor(mtime)), 12));
  put(148, 8, '        ');
  put(156, 1, type);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function pad(n) {
  const r = n % 512;
  return r === 0 ? null : new Uint8Array(512 - r);
}

// relPath is where a file goes below the upload's folder: its path in a
// dropped or chosen folder ("photos/2024/a.jpg"), else its name.
function relPath(f) { return f.relPath || f.webkitRelativePath || f.name; }

// tarOf returns a Blob holding files as a tar stream, under their paths.
function tarOf(files) {
  const parts = [];
  for (const f of files) {
    const mtime = (f.lastModified || Date.now()) / 1000;
    const path = relPath(f);
    const name = enc.encode(path);
    let hdrName = path;
    if (name.length > 100 || f.size >= 8 * 1024 * 1024 * 1024) {
      const pax = paxRecord('path', path) + (f.size >= 8 * 1024 * 1024 * 1024 ? paxRecord('size', String(f.size)) : '');
      const body = enc.encode(pax);
      parts.push(tarHeader('PaxHeader', body.length, mtime, 'x'), body);
      const p = pad(body.length);
      if (p) parts.push(p);
      hdrName = 'long-name';
    }
    parts.push(tarHeader(hdrName, f.size < 8 * 1024 * 1024 * 1024 ? f.size : 0, mtime, '0'), f);
    const p = pad(f.size);
    if (p) parts.push(p);
  }
  parts.push(new Uint8Array(1024));
  return new Blob(parts, { type: 'application/x-tar' });
}

// droppedFiles gives the files of a drop, the files in dropped folders
// too, each with its path below the drop (relPath).
async function droppedFiles(dt) {
  const entries = Array.from(dt.items || []).map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return Array.from(dt.files || []);
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const f = await new Promise((ok, fail) => entry.file(ok, fail));
      f.relPath = prefix + f.name;
      out.push(f);
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
      if (!batch.length) break;
      for (const e of batch) await walk(e, prefix + entry.name + '/');
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

// The last upload's line stays shown in its folder across re-renders.
let uploads = 0;
let lastUpload = null; // { dir, item }

// upload sends files into the folder dir, showing progress in box.
function upload(files, dir, box) {
  files = Array.from(files);
  if (files.length === 0) return Promise.resolve();
  const total = files.reduce((s, f) => s + f.size, 0);
  const label = files.length === 1 ? relPath(files[0]) : files.length + ' files';
  const bar = el('progress', { max: 100, value: 0 });
  const txt = el('div', { class: 'muted', text: 'Uploading ' + label + '…' });
  const item = el('div', { class: 'progress', id: 'upload-progress' }, txt, bar);
  box.replaceChildren(item);
  lastUpload = { dir, item };
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', API + '/vault/add?' + new URLSearchParams({ to: dir }));
    xhr.setRequestHeader('Content-Type', 'application/x-tar');
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (ev) => {
      if (!ev.lengthComputable) return;
      const pct = Math.min(100, Math.round(ev.loaded * 100 / ev.total));
      bar.value = pct;
      txt.textContent = 'Uploading ' + label + ': ' + pct + '% (' + bytes(Math.min(total, ev.loaded)) + ' of ' + bytes(total) + ')';
    };
    xhr.onload = () => {
      let last = null;
      for (const line of xhr.responseText.split('\n')) {
        if (!line.trim()) continue;
        try { last = JSON.parse(line); } catch (e) { /* partial line */ }
      }
      if (xhr.status === 401) { location.href = '/login'; return; }
      if (xhr.status !== 200 || !last || last.error || !last.result) {
        const msg = (last && last.error) || xhr.status + ' ' + xhr.statusText;
        txt.textContent = 'Upload failed: ' + msg;
        txt.className = 'error';
        toast('Upload failed: ' + msg, true);
      } else {
        const r = last.result;
        bar.value = 100;
        txt.textContent = 'Uploaded ' + label + ' (' + bytes(total) + (r.unchanged ? ', ' + r.unchanged + ' unchanged' : '') + ')';
        txt.className = 'ok';
        item.id = 'upload-done';
        item.dataset.n = ++uploads;
      }
      resolve();
    };
    xhr.onerror = () => {
      txt.textContent = 'Upload failed: the connection broke';
      txt.className = 'error';
      resolve();
    };
    xhr.send(tarOf(files));
  });
}

// ---- views ----

function setActive(view) {
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === view);
}

function route() {
  const gen = ++viewGen;
  const main = document.getElementById('main');
  const raw = location.hash.slice(1) || '/files/';
  const qi = raw.indexOf('?');
  const pathPart = decodeURIComponent(qi < 0 ? raw : raw.slice(0, qi));
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const m = pathPart.match(/^\/([a-z]+)(\/.*)?$/);
  let view = m ? m[1] : 'files';
  if (donorOnly && view !== 'node') view = 'donor';
  setActive(view);
  const views = { files: viewFiles, history: viewHistory, shared: viewShared, devices: viewDevices, sync: viewSync, donor: viewDonor, node: viewNode };
  const fn = views[view] || viewFiles;
  let arg = (m && m[2]) || '/';
  if (view === 'history') arg = params.get('path') || '';
  Promise.resolve(fn(main, arg, gen)).catch((err) => {
    if (gen !== viewGen) return;
    show(main, el('div', { class: 'card error', id: 'view-error', text: err.message }));
  });
}

function go(hash) {
  if (location.hash === '#' + hash) route();
  else location.hash = hash;
}

function filesHash(p) {
  return '#/files' + (p === '/' ? '/' : p.split('/').map(encodeURIComponent).join('/'));
}

function crumbs(p) {
  const out = el('div', { class: 'crumbs', id: 'crumbs' }, el('a', { href: filesHash('/'), text: 'Vault' }));
  let acc = '';
  for (const part of p.split('/').filter(Boolean)) {
    acc += '/' + part;
    out.append(el('span', { class: 'sep', text: '/' }), el('a', { href: filesHash(acc), text: part }));
  }
  return out;
}

async function viewFiles(main, dir, gen) {
  dir = dir.replace(/\/+$/, '') || '/';
  const entries = await (firstListing && firstListing.dir === dir ? firstListing.entries : api('GET', '/vault/ls', { path: dir }));
  firstListing = null;
  if (gen !== viewGen) return;
  if (entries.length === 1 && entries[0].type === 'file' && entries[0].path === dir) {
    go('/history?path=' + encodeURIComponent(dir));
    return;
  }
  entries.sort((a, b) => (a.type === b.type ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.type === 'dir' ? -1 : 1));
  const progress = el('div', { id: 'upload-box' }, lastUpload && lastUpload.dir === dir ? lastUpload.item : null);
  const input = el('input', { type: 'file', id: 'upload-input', multiple: true });
  const folderInput = el('input', { type: 'file', id: 'upload-folder-input', multiple: true, webkitdirectory: true });
  const reload = () => { if (gen === viewGen) route(); };
  for (const inp of [input, folderInput]) {
    inp.addEventListener('change', async () => {
      const fs = Array.from(inp.files);
      inp.value = '';
      await upload(fs, dir, progress);
      reload();
    });
  }
  const toolbar = el('div', { class: 'toolbar' },
    el('label', { class: 'button primary', for: 'upload-input', id: 'upload-button' }, 'Upload'),
    input,
    el('label', { class: 'button', for: 'upload-folder-input', id: 'upload-folder-button' }, 'Upload folder'),
    folderInput,
    el('button', { type: 'button', id: 'mkdir-button', onclick: async () => {
      const name = await ask('New folder', 'In ' + dir, '', 'Make folder');
      if (!name) return;
      try { await api('POST', '/vault/mkdir', { path: joinPath(dir, name) }); reload(); } catch (e) { toast(e.message, true); }
    } }, 'New folder'),
    el('button', { type: 'button', id: 'open-link-button', onclick: openLink }, 'Open link'),
    el('span', { class: 'grow' }),
    el('a', { class: 'button', href: fileURL(dir), download: (dir === '/' ? 'vault' : baseOf(dir)) + '.tar' }, 'Download folder'),
    el('span', { class: 'muted', text: entries.length + (entries.length === 1 ? ' item' : ' items') }));

  const rows = document.createDocumentFragment();
  const byName = new Map();
  for (const e of entries) {
    byName.set(e.name, e);
    rows.append(fileRow(e, dir));
  }
  const table = el('table', { id: 'files', class: 'list', onclick: (ev) => {
    const b = ev.target.closest('button[data-act]');
    if (!b) return;
    const e = byName.get(b.closest('tr').dataset.name);
    if (e) fileAction(b.dataset.act, e, dir, reload);
  } },
    el('thead', {}, el('tr', {}, el('th', { text: 'Name' }), el('th', { class: 'num', text: 'Size' }), el('th', { text: 'Modified' }), el('th', {}))),
    el('tbody', {}, rows));
  const empty = entries.length ? null : el('p', { class: 'muted card', text: 'This folder is empty. Drop files or folders here, or use Upload.' });
  show(main, crumbs(dir), toolbar, progress, empty || table, el('div', { class: 'drop', text: 'Drop files or folders to upload them to ' + dir }));
  main.dataset.renderedAt = Math.round(performance.now()); // for the page-load figure

  // Drag and drop anywhere on the page.
  let depth = 0;
  const body = document.body;
  const enter = (ev) => { if (ev.dataTransfer && Array.from(ev.dataTransfer.types).includes('Files')) { ev.preventDefault(); depth++; body.classList.add('dragging'); } };
  const leave = () => { if (--depth <= 0) { depth = 0; body.classList.remove('dragging'); } };
  const over = (ev) => { ev.preventDefault(); };
  const drop = async (ev) => {
    ev.preventDefault();
    depth = 0;
    body.classList.remove('dragging');
    let fs;
    try { fs = await droppedFiles(ev.dataTransfer); } catch (err) { toast('Could not read what was dropped: ' + err.message, true); return; }
    if (fs.length) { await upload(fs, dir, progress); reload(); }
  };
  main.ondragenter = enter; main.ondragleave = leave; main.ondragover = over; main.ondrop = drop;
}

// fileRow is one entry of a listing, cloned from a row made once (a
// listing of thousands is built several times faster so); its buttons are
// handled by the table (fileAction), with no handler per row.
let rowProto = null;
function fileRow(e, dir) {
  if (!rowProto) {
    const btn = (act, label, cls) => el('button', { type: 'button', class: 'small ' + act + (cls ? ' ' + cls : ''), dataset: { act } }, label);
    rowProto = el('tr', {},
      el('td', { class: 'name', 'data-label': '' }, el('a', {}, el('span', { class: 'ico' }), '')),
      el('td', { class: 'num', 'data-label': 'Size' }),
      el('td', { 'data-label': 'Modified' }),
      el('td', { class: 'actions', 'data-label': '' }, btn('rename', 'Rename'), btn('move', 'Move'), btn('history', 'History'), btn('share', 'Share'), btn('delete', 'Delete', 'danger')));
  }
  const p = joinPath(dir, e.name);
  const isDir = e.type === 'dir';
  const tr = rowProto.cloneNode(true);
  tr.dataset.name = e.name;
  tr.dataset.type = e.type;
  const [tdName, tdSize, tdTime, tdAct] = tr.children;
  const a = tdName.firstChild;
  a.lastChild.data = e.name;
  if (isDir) {
    a.href = filesHash(p);
    a.firstChild.className = 'ico dir';
    tdAct.children[2].remove(); // a folder's history is its files'

  } else {
    a.href = fileURL(p);
    a.download = e.name;
    a.className = 'download';
    a.firstChild.className = 'ico file';
    tdSize.textContent = bytes(e.size);
    tdTime.textContent = when(e.mtime);
  }
  return tr;
}

// showLink shows a link made, ready to copy.
async function showLink(link) {
  const copy = await ask('Link', 'Send it to whoever should read the file. The key is after the #.', link, 'Copy');
  if (copy === null) return;
  try { await navigator.clipboard.writeText(link); toast('Link copied'); } catch (err) { toast('Select the link and copy it: ' + err.message, true); }
}

// openLink opens a link someone shared: what it names, then a download.
async function openLink() {
  const link = await ask('Open a link', 'Paste a link someone shared with you (peer://s/...).', '', 'Open');
  if (!link) return;
  const req = { link: link.trim() };
  try {
    if (/#p\./.test(req.link)) {
      const pw = await ask('Password', 'This link needs a password.', '', 'Open');
      if (pw === null) return;
      req.password = pw;
    }
    const info = await api('POST', '/links/stat', null, JSON.stringify(req), 'application/json');
    if (info.type === 'dir') {
      const list = await api('POST', '/links/ls', null, JSON.stringify(req), 'application/json');
      const names = list.slice(0, 8).map((e) => e.name + (e.type === 'dir' ? '/' : '')).join(', ') + (list.length > 8 ? ', ...' : '');
      const ok = await ask((info.name || 'Shared folder') + '/', list.length + ' entries' + (list.length ? ': ' + names : '') + (info.follows ? ' (the newest version the link follows)' : '') + '. Download it all as one .tar file?', undefined, 'Download');
      if (!ok) return;
      await downloadLink(req, (info.name || 'shared') + '.tar', '/links/get');
      return;
    }
    const ok = await ask(info.name, bytes(info.size) + ', modified ' + when(info.mtime) + (info.follows ? ' (the newest version the link follows)' : ''), undefined, 'Download');
    if (!ok) return;
    await downloadLink(req, info.name, '/links/cat');
  } catch (err) {
    toast(err.message, true);
  }
}

// downloadLink saves what a link opens (req: {link, password}) as name,
// from endpoint: /links/cat for a file, /links/get for a folder's tar.
async function downloadLink(req, name, endpoint) {
  const res = await fetch(API + endpoint, { method: 'POST', headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' }, body: JSON.stringify(req), credentials: 'same-origin' });
  if (!res.ok) {
    let msg = res.status + ' ' + res.statusText;
    try { msg = (await res.json()).error || msg; } catch (err) { /* not JSON */ }
    throw new Error(msg);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// viewShared lists what other accounts shared with this one, contacts'
// first, each with a download.
async function viewShared(main, _, gen) {
  const list = await api('GET', '/shared');
  if (gen !== viewGen) return;
  const table = (rows) => el('table', { class: 'list shared' },
    el('thead', {}, el('tr', {}, el('th', { text: 'Name' }), el('th', { class: 'num', text: 'Size' }), el('th', { text: 'From' }), el('th', { text: 'Shared' }), el('th', {}))),
    el('tbody', {}, ...rows.map((r) => el('tr', { dataset: { name: r.name } },
      el('td', { class: 'name', text: r.name }),
      el('td', { class: 'num', text: bytes(r.size) }),
      el('td', { text: r.from_name || short(r.from), title: r.from }),
      el('td', { text: when(r.shared) }),
      el('td', { class: 'actions' }, el('button', { type: 'button', class: 'small download', onclick: () => downloadLink({ link: r.link }, r.name, '/links/cat').catch((e) => toast(e.message, true)) }, 'Download'))))));
  const known = list.filter((r) => r.contact);
  const strangers = list.filter((r) => !r.contact);
  const mine = await api('GET', '/shares');
  if (gen !== viewGen) return;
  const state = (s) => s.ended ? 'ended ' + when(s.ended) : s.expires && new Date(s.expires) < new Date() ? 'expired ' + when(s.expires) : s.expires ? 'until ' + when(s.expires) : 'standing';
  const yours = el('table', { class: 'list shares' },
    el('thead', {}, el('tr', {}, el('th', { text: 'Path' }), el('th', { text: 'Link' }), el('th', { text: 'Made' }), el('th', { text: 'State' }), el('th', {}))),
    el('tbody', {}, ...mine.map((s) => el('tr', { dataset: { id: s.id } },
      el('td', { class: 'name', text: s.path }),
      el('td', { text: s.follows ? 'follows the path' : 'the folder as it was' }),
      el('td', { text: when(s.made) }),
      el('td', { text: state(s) }),
      el('td', { class: 'actions' }, s.ended ? null : el('button', { type: 'button', class: 'small danger end-share', onclick: async () => {
        const ok = await ask('End this share?', s.path + ': the link then opens nothing written after now. What it opened before stays readable to whoever kept it.', undefined, 'End share');
        if (!ok) return;
        try { await api('POST', '/unshare', null, JSON.stringify({ what: s.id }), 'application/json'); toast('Ended the share of ' + s.path); route(); } catch (err) { toast(err.message, true); }
      } }, 'End'))))));
  show(main,
    mine.length ? el('h2', { text: 'Your shares' }) : null,
    mine.length ? yours : null,
    el('h2', { text: 'Shared with you' }),
    list.length ? null : el('p', { class: 'muted card', text: 'Nothing yet. Others share files with you with peer share PATH --with and your account ID (the Node page shows it).' }),
    known.length ? table(known) : null,
    strangers.length ? el('h2', { text: 'From accounts not in your contacts' }) : null,
    strangers.length ? table(strangers) : null);
}

// fileAction runs a row's button act on the entry e of the folder dir.
async function fileAction(act, e, dir, reload) {
  const p = joinPath(dir, e.name);
  const isDir = e.type === 'dir';
  try {
    switch (act) {
      case 'rename': {
        const to = await ask('Rename', p, e.name, 'Rename');
        if (!to || to === e.name) return;
        await api('POST', '/vault/mv', { from: p, to: joinPath(dir, to) });
        toast('Renamed to ' + to);
        break;
      }
      case 'move': {
        const to = await ask('Move to folder', 'Move ' + e.name + ' into the folder:', dir, 'Move');
        if (!to || to === dir) return;
        await api('POST', '/vault/mv', { from: p, to: to.startsWith('/') ? to : '/' + to });
        toast('Moved to ' + to);
        break;
      }
      case 'history':
        go('/history?path=' + encodeURIComponent(p));
        return;
      case 'share': {
        if (isDir) {
          const ok = await ask('Share ' + e.name, 'Make a link to the folder ' + p + ' as it is now, with all it holds. Anyone holding the link can read it from any node, of any account; what they read cannot be taken back (ending the share in Shared stops your devices keeping it). (Links that follow the newest version: peer share --follow.)', undefined, 'Make link');
          if (!ok) return;
          const s = await api('POST', '/share', null, JSON.stringify({ path: p }), 'application/json');
          await showLink(s.link);
          return;
        }
        const with_ = await ask('Share ' + e.name, 'Leave this empty to make a link to the version of ' + p + ' there now: anyone holding it can read this version from any node, of any account, and it cannot be taken back. Or give accounts (IDs or contact names, comma-separated) to seal this version for them and send it to their inboxes.', '', 'Share');
        if (with_ === null) return;
        const accounts = with_.split(',').map((a) => a.trim()).filter(Boolean);
        if (accounts.length) {
          const s = await api('POST', '/share', null, JSON.stringify({ path: p, with: accounts }), 'application/json');
          toast('Shared ' + e.name + ' with ' + s.with.map(short).join(', '));
          return;
        }
        const s = await api('POST', '/share', null, JSON.stringify({ path: p }), 'application/json');
        await showLink(s.link);
        return;
      }
      case 'delete': {
        const ok = await ask('Delete ' + e.name + '?', isDir ? 'The folder and all it holds are removed; History can still bring files back.' : 'History can still bring it back.', undefined, 'Delete');
        if (!ok) return;
        await api('POST', '/vault/rm', { path: p, recursive: isDir ? 'true' : 'false' });
        toast('Deleted ' + e.name);
        break;
      }
      default:
        return;
    }
    reload();
  } catch (err) {
    toast(err.message, true);
  }
}

async function viewHistory(main, p, gen) {
  const form = el('form', { class: 'inline card', id: 'history-form', onsubmit: (ev) => {
    ev.preventDefault();
    const v = form.querySelector('input').value.trim();
    if (v) go('/history?path=' + encodeURIComponent(v.startsWith('/') ? v : '/' + v));
  } },
  el('div', {}, el('label', { for: 'history-path', text: 'Versions of a file (deleted ones too)' }),
    el('input', { id: 'history-path', value: p, placeholder: '/docs/report.pdf', size: 40 })),
  el('button', { type: 'submit', class: 'primary', text: 'Show' }));
  if (!p) {
    const snaps = await api('GET', '/vault/history', { limit: 50 });
    if (gen !== viewGen) return;
    const rows = snaps.map((s) => el('tr', {},
      el('td', { 'data-label': 'Time', text: when(s.time) }),
      el('td', { class: 'num', 'data-label': 'Seq', text: s.seq }),
      el('td', { 'data-label': 'Device', class: 'mono', text: short(s.device) }),
      el('td', { 'data-label': 'Snapshot', class: 'mono', text: short(s.id) })));
    show(main, el('h1', { text: 'History' }), form,
      el('h2', { text: 'Latest changes' }),
      snaps.length ? el('table', { id: 'snapshots' }, el('thead', {}, el('tr', {}, el('th', { text: 'Time' }), el('th', { class: 'num', text: 'Seq' }), el('th', { text: 'Device' }), el('th', { text: 'Snapshot' }))), el('tbody', {}, rows))
        : el('p', { class: 'muted', text: 'No changes yet.' }));
    return;
  }
  const [versions, current] = await Promise.all([
    api('GET', '/vault/history', { path: p }),
    api('GET', '/vault/ls', { path: p }).catch(() => []),
  ]);
  if (gen !== viewGen) return;
  const cur = current.length === 1 && current[0].path === p ? current[0].id : '';
  const rows = versions.map((v, i) => el('tr', { dataset: { version: v.id, index: i } },
    el('td', { 'data-label': 'Saved', text: when(v.time) }),
    el('td', { class: 'num', 'data-label': 'Size', text: bytes(v.size) }),
    el('td', { 'data-label': 'Modified', text: when(v.mtime) }),
    el('td', { 'data-label': 'Device', class: 'mono', text: short(v.device) }),
    el('td', { class: 'actions', 'data-label': '' },
      v.id === cur ? el('span', { class: 'badge ok', text: 'current' }) : null,
      el('a', { class: 'button small', href: fileURL(p, v.id), download: v.name || baseOf(p) }, 'Download'),
      v.id === cur ? null : el('button', { type: 'button', class: 'small restore', onclick: async () => {
        const ok = await ask('Restore this version?', 'It becomes the newest version of ' + p + '; the others stay in History.', undefined, 'Restore');
        if (!ok) return;
        try {
          await api('POST', '/vault/restore', { path: p, version: v.id });
          toast('Restored the version of ' + when(v.time));
          if (gen === viewGen) route();
        } catch (err) { toast(err.message, true); }
      } }, 'Restore'))));
  show(main, crumbs(parentOf(p)), el('h1', { text: 'History of ' + baseOf(p) }), form,
    cur ? null : el('p', { class: 'warn', text: 'No file is at this path now: restoring puts the version back.' }),
    versions.length ? el('table', { id: 'versions' }, el('thead', {}, el('tr', {}, el('th', { text: 'Saved' }), el('th', { class: 'num', text: 'Size' }), el('th', { text: 'Modified' }), el('th', { text: 'Device' }), el('th', {}))), el('tbody', {}, rows))
      : el('p', { class: 'muted', text: 'No versions.' }));
}

function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [el('dt', { text: k }), el('dd', {}, v instanceof Node ? v : String(v))]));
}

async function viewDevices(main, _, gen) {
  const devices = await api('GET', '/devices');
  if (gen !== viewGen) return;
  const linkBox = el('div', { id: 'link-box' });
  const rows = devices.map((d) => el('tr', { dataset: { device: d.id } },
    el('td', { 'data-label': '' }, el('strong', { text: d.name || '(no name)' }), d.this ? el('span', { class: 'badge', text: ' this device' }) : null),
    el('td', { 'data-label': 'ID', class: 'mono', title: d.id, text: short(d.id) }),
    el('td', { 'data-label': 'Linked', text: when(d.linked) }),
    el('td', { 'data-label': 'State' }, d.removed ? el('span', { class: 'badge error', text: 'removed' })
      : d.connected || d.this ? el('span', { class: 'badge ok', text: d.this ? 'here' : 'connected' })
        : el('span', { class: 'badge', text: d.last_seen ? 'seen ' + when(d.last_seen) : 'not seen' })),
    el('td', { class: 'actions', 'data-label': '' }, d.this || d.removed ? null : el('button', { type: 'button', class: 'small danger', onclick: async () => {
      const ok = await ask('Remove ' + (d.name || short(d.id)) + '?', 'The device is no longer accepted, and cannot read what is written from now on.', undefined, 'Remove');
      if (!ok) return;
      try {
        await api('POST', '/devices/remove', { id: d.id });
        toast('Removed. The account\'s keys were rotated: run "peer account phrase" on this device and write down the recovery key (its second line) with the phrase.', false, 15000);
        route();
      } catch (err) { toast(err.message, true); }
    } }, 'Remove'))));
  show(main, el('h1', { text: 'Devices' }),
    el('div', { class: 'toolbar' }, el('button', { type: 'button', class: 'primary', id: 'link-button', onclick: () => linkDevice(linkBox, gen) }, 'Link a new device')),
    linkBox,
    el('table', { id: 'devices' }, el('thead', {}, el('tr', {}, el('th', { text: 'Name' }), el('th', { text: 'ID' }), el('th', { text: 'Linked' }), el('th', { text: 'State' }), el('th', {}))), el('tbody', {}, rows)));
}

// linkDevice opens a link offer, shows its QR code and follows it until
// it ends, asking to confirm the device that proved the secret.
async function linkDevice(box, gen) {
  let offer;
  try { offer = await api('POST', '/link'); } catch (err) { toast(err.message, true); return; }
  const res = await fetch('/ui/qr', { method: 'POST', headers: { 'X-CSRF-Token': csrf }, body: offer.uri });
  const img = el('img', { alt: 'QR code of the link', id: 'link-qr' });
  if (res.ok) img.src = URL.createObjectURL(await res.blob());
  const state = el('p', { id: 'link-state' });
  const actions = el('div', { class: 'toolbar' });
  const cancel = el('button', { type: 'button', onclick: async () => { try { await api('DELETE', '/link/' + encodeURIComponent(offer.id)); } catch (err) { toast(err.message, true); } } }, 'Cancel');
  box.replaceChildren(el('div', { class: 'card qr' }, img, el('div', { class: 'info' },
    el('h2', { text: 'Link a new device' }),
    el('p', {}, 'On the new device (same LAN), scan this code, or give this link to ', el('code', { text: "peer init --link '…'" }), ':'),
    el('p', {}, el('code', { id: 'link-uri', text: offer.uri })),
    el('p', { class: 'muted', text: 'Expires ' + when(offer.expires) + '. The code holds no key: the new device proves it and you confirm it here.' }),
    state, actions, cancel)));
  let since = 0;
  for (;;) {
    const o = offer;
    since = o.version;
    state.replaceChildren();
    actions.replaceChildren();
    switch (o.state) {
      case 'waiting': state.textContent = 'Waiting for the new device…'; break;
      case 'confirm':
        state.append('Device ', el('strong', { text: o.device_name || short(o.device) }), ' asks to join. Check both screens show: ', el('span', { class: 'fingerprint', text: o.fingerprint }));
        actions.append(
          el('button', { type: 'button', class: 'primary', onclick: () => api('POST', '/link/' + encodeURIComponent(o.id) + '/confirm', { accept: 'true' }).catch((e) => toast(e.message, true)) }, 'Same code: link it'),
          el('button', { type: 'button', class: 'danger', onclick: () => api('POST', '/link/' + encodeURIComponent(o.id) + '/confirm', { accept: 'false' }).catch((e) => toast(e.message, true)) }, 'Refuse'));
        break;
      case 'sending': state.textContent = 'Sending the account to the new device…'; break;
      case 'joined': state.textContent = 'Linked ' + (o.device_name || short(o.device)) + '.'; state.className = 'ok'; break;
      default: state.textContent = 'The link ' + o.state + (o.error ? ': ' + o.error : '.'); state.className = o.state === 'failed' ? 'error' : 'muted';
    }
    if (['joined', 'failed', 'expired', 'cancelled'].includes(o.state)) {
      cancel.remove();
      if (o.state === 'joined' && gen === viewGen) setTimeout(() => { if (gen === viewGen) route(); }, 1500);
      return;
    }
    if (gen !== viewGen) return;
    try { offer = await api('GET', '/link/' + encodeURIComponent(o.id), { since }); } catch (err) { state.textContent = err.message; state.className = 'error'; return; }
  }
}

function stateBadge(s) {
  const cls = s === 'idle' ? 'ok' : s === 'error' || s === 'stopped' ? 'error' : 'warn';
  return el('span', { class: 'badge ' + cls, text: s });
}

async function viewSync(main, _, gen) {
  const folders = await api('GET', '/sync/status');
  if (gen !== viewGen) return;
  const add = el('form', { class: 'inline card', onsubmit: async (ev) => {
    ev.preventDefault();
    const dir = add.querySelector('#sync-dir').value.trim();
    const to = add.querySelector('#sync-to').value.trim();
    try { await api('POST', '/sync/add', { dir, to }); route(); } catch (err) { toast(err.message, true); }
  } },
  el('div', {}, el('label', { for: 'sync-dir', text: 'Folder on this machine' }), el('input', { id: 'sync-dir', placeholder: '/home/me/Photos', required: true, size: 30 })),
  el('div', {}, el('label', { for: 'sync-to', text: 'Vault folder (optional)' }), el('input', { id: 'sync-to', placeholder: '/Photos', size: 20 })),
  el('button', { type: 'submit', class: 'primary', text: 'Sync it' }));
  const cards = folders.map((f) => el('div', { class: 'card' },
    el('h2', {}, el('code', { text: f.dir }), ' ', stateBadge(f.state)),
    facts([['Vault folder', el('a', { href: filesHash(f.vault), text: f.vault })],
      ['Files', f.files + ' files, ' + f.folders + ' folders'],
      ['Pending', f.pending],
      ['Last scan', when(f.last_scan) || '—'],
      ['Last sync', when(f.last_sync) || '—'],
      f.last_error ? ['Error', el('span', { class: 'error', text: f.last_error })] : null,
      f.warning ? ['Warning', el('span', { class: 'warn', text: f.warning })] : null,
      f.out_of_sync_count ? ['Not in sync', f.out_of_sync_count + ' paths'] : null]),
    f.out_of_sync && f.out_of_sync.length ? el('ul', {}, f.out_of_sync.slice(0, 20).map((o) => el('li', {}, el('code', { text: o.path }), ': ' + o.reason))) : null,
    el('div', { class: 'toolbar' }, el('button', { type: 'button', class: 'small danger', onclick: async () => {
      const ok = await ask('Stop syncing ' + f.dir + '?', 'Nothing is deleted, on disk or in the vault.', undefined, 'Stop');
      if (!ok) return;
      try { await api('POST', '/sync/rm', { dir: f.dir }); route(); } catch (err) { toast(err.message, true); }
    } }, 'Stop syncing'))));
  show(main, el('h1', { text: 'Synced folders' }), add,
    cards.length ? el('div', { class: 'grid', id: 'sync-folders' }, cards) : el('p', { class: 'muted', text: 'No folder is synced on this device.' }));
}

async function viewDonor(main, _, gen) {
  const st = await api('GET', '/donor');
  if (gen !== viewGen) return;
  const quota = (n) => (n > 0 ? bytes(n) : 'none');
  const form = el('form', { class: 'inline card', onsubmit: async (ev) => {
    ev.preventDefault();
    const accounts = form.querySelector('#donor-accounts').value.trim();
    const q = {};
    if (accounts) q.accounts = accounts;
    try { await api('POST', '/donor/serve', q); route(); } catch (err) { toast(err.message, true); }
  } },
  el('div', {}, el('label', { for: 'donor-accounts', text: 'Mirror accounts (IDs, comma-separated)' }), el('input', { id: 'donor-accounts', size: 50, required: true })),
  el('button', { type: 'submit', class: 'primary', text: 'Mirror' }));
  // Open: take any account whose device asks, each at a per-account bound.
  const openForm = el('form', { class: 'inline card', onsubmit: async (ev) => {
    ev.preventDefault();
    const q = { open: String(!st.open) };
    const per = openForm.querySelector('#donor-per');
    if (per && per.value) q.per_account = String(Math.round(parseFloat(per.value) * 1e9));
    try { await api('POST', '/donor/serve', q); route(); } catch (err) { toast(err.message, true); }
  } },
  st.open ? el('p', { text: 'Open: takes any account whose device on the LAN asks, while the quota holds another.' })
    : el('div', {}, el('label', { for: 'donor-per', text: 'Per account (GB)' }), el('input', { id: 'donor-per', type: 'number', min: '0.001', step: 'any', required: !st.per_account, value: st.per_account ? String(st.per_account / 1e9) : '' })),
  el('button', { type: 'submit', id: 'donor-open', class: st.open ? 'small' : 'primary', text: st.open ? 'Take no more accounts' : 'Open to any account that asks' }));
  const rows = (st.accounts || []).map((a) => el('tr', {},
    el('td', { 'data-label': 'Account', class: 'mono', title: a.account, text: short(a.account) }),
    el('td', { class: 'num', 'data-label': 'Held', text: bytes(a.bytes) }),
    el('td', { class: 'num', 'data-label': 'Snapshots', text: a.snapshots }),
    el('td', { 'data-label': 'Last change', text: when(a.last_change) }),
    el('td', { 'data-label': 'State' }, a.error ? el('span', { class: 'error', text: a.error }) : a.refused ? el('span', { class: 'warn', text: a.refused }) : el('span', { class: 'badge ok', text: 'ok' })),
    el('td', { class: 'actions', 'data-label': '' }, el('button', { type: 'button', class: 'small danger', onclick: async () => {
      try { await api('POST', '/donor/stop', { account: a.account }); route(); } catch (err) { toast(err.message, true); }
    } }, 'Stop'))));
  show(main, el('h1', { text: 'Lending disk' }),
    el('div', { class: 'card', id: 'donor' }, facts([['Used', bytes(st.used)], ['Quota', quota(st.quota)], ['Per account', quota(st.per_account)], ['Fetched', bytes(st.fetched)], ['Open', st.open ? 'yes' : 'no'],
      ['Keeps', (st.keep_snapshots ? st.keep_snapshots + ' snapshots' : 'all snapshots')]])),
    form, openForm,
    rows.length ? el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Account' }), el('th', { class: 'num', text: 'Held' }), el('th', { class: 'num', text: 'Snapshots' }), el('th', { text: 'Last change' }), el('th', { text: 'State' }), el('th', {}))), el('tbody', {}, rows))
      : el('p', { class: 'muted', text: 'This node mirrors no other account.' }));
}

async function viewNode(main, _, gen) {
  const [id, status, peers, bw] = await Promise.all([api('GET', '/id'), donorOnly ? {} : api('GET', '/status'), api('GET', '/peers'), api('GET', '/stats/bitswap')]);
  if (gen !== viewGen) return;
  const storage = el('div', { class: 'card', id: 'storage' }, el('h2', { text: 'Storage' }), el('p', { class: 'muted', text: 'Counting…' }));
  const pub = status.last_publish;
  show(main, el('h1', { text: 'This node' }),
    el('div', { class: 'grid' },
      el('div', { class: 'card', id: 'node' }, el('h2', { text: 'Account and device' }), facts([
        ['Account', status.account ? el('code', { text: status.account }) : 'none: this node only lends disk (donor.only)'],
        ['Device', el('code', { text: id.id })],
        ['Profile', id.profile],
        ['Head', status.head ? el('code', { text: short(status.head) }) : '—'],
        ['Published', pub ? when(pub.time) + ' (seq ' + pub.seq + ', ' + pub.pubsub_peers + ' pubsub peers, DHT ' + pub.dht + ')' : 'not yet'],
        status.publish_error ? ['Publish error', el('span', { class: 'error', text: status.publish_error })] : null,
        status.lan ? ['WebDAV on the LAN', status.lan] : null,
        status.tls_fingerprint ? ['TLS fingerprint', el('code', { text: status.tls_fingerprint })] : null])),
      storage,
      el('div', { class: 'card', id: 'bitswap' }, el('h2', { text: 'Bitswap' }), facts([
        ['Received', bw.blocks_received + ' blocks, ' + bytes(bw.data_received) + ' (' + bw.dup_blocks + ' duplicate)'],
        ['Sent', bw.blocks_sent + ' blocks, ' + bytes(bw.data_sent)],
        ['Wanted now', bw.wantlist + ' blocks'],
        ['Partners', bw.peers]]))),
    donorOnly ? null : el('div', { class: 'card', id: 'replicas' }, el('h2', { text: 'Replicas' }),
      el('p', { class: 'muted', text: 'Who holds this account\'s files: its other devices and the donors that mirror it, each proving it holds the head.' }),
      el('button', { type: 'button', id: 'replicas-button', onclick: () => checkReplicas(document.getElementById('replicas')) }, 'Check')),
    el('h2', { text: 'Peers (' + peers.length + ')' }),
    peers.length ? el('table', { id: 'peers' }, el('thead', {}, el('tr', {}, el('th', { text: 'Peer' }), el('th', { text: 'Address' }), el('th', { text: 'Direction' }))),
      el('tbody', {}, peers.map((p) => el('tr', {}, el('td', { 'data-label': 'Peer', class: 'mono', title: p.id, text: short(p.id) }), el('td', { 'data-label': 'Address', class: 'mono', text: p.addr }), el('td', { 'data-label': 'Direction', text: p.direction })))))
      : el('p', { class: 'muted', text: 'No peer connected.' }),
    el('h2', { text: 'Addresses' }), el('ul', {}, id.addrs.map((a) => el('li', {}, el('code', { text: a })))));
  // The repo's figures walk the store and the tree: they come after.
  try {
    const st = await api('GET', '/repo/stat');
    if (gen !== viewGen) return;
    storage.replaceChildren(el('h2', { text: 'Storage' }), facts([
      ['Vault files', bytes(st.logical_bytes)],
      ['Stored', bytes(st.stored_bytes) + ' in ' + st.blocks + ' blocks'],
      ['On disk', bytes(st.disk_bytes)],
      ['Pins', st.pins],
      ['DHT records', st.dht_records + ' of ' + st.dht_max_records]]));
  } catch (err) {
    storage.replaceChildren(el('h2', { text: 'Storage' }), el('p', { class: 'error', text: err.message }));
  }
}

// checkReplicas asks who holds the account's head and shows it in card.
async function checkReplicas(card) {
  const out = card.querySelector('.result') || el('div', { class: 'result' });
  card.append(out);
  out.replaceChildren(el('p', { class: 'muted', text: 'Asking the peers…' }));
  try {
    const rs = await api('GET', '/replicas');
    const rows = rs.holders.map((h) => el('tr', { dataset: { peer: h.peer } },
      el('td', { 'data-label': 'Peer', class: 'mono', title: h.peer, text: short(h.peer) }),
      el('td', { 'data-label': 'Role', text: h.role || '—' }),
      el('td', { 'data-label': 'Head', text: h.error ? h.error : h.current ? 'current' : h.head ? 'other (' + short(h.head) + ')' : '—' }),
      el('td', { class: 'num', 'data-label': 'Proved', text: h.role === 'provider' ? '—' : h.proved + ' of ' + rs.probes })));
    const proved = rs.holders.filter((h) => !h.error && h.proved === rs.probes).length;
    out.replaceChildren(el('p', { text: proved + (proved === 1 ? ' other node proved it holds' : ' other nodes proved they hold') + ' the head.' }),
      rows.length ? el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Peer' }), el('th', { text: 'Role' }), el('th', { text: 'Head' }), el('th', { class: 'num', text: 'Proved' }))), el('tbody', {}, rows)) : null);
  } catch (err) {
    out.replaceChildren(el('p', { class: 'error', text: err.message }));
  }
}

// ---- start ----

// firstListing is the listing asked for at start, beside the session, when
// the page opens on a folder.
let firstListing = null;

// donorOnly: the node has no account (donor.only): only Donor and Node.
let donorOnly = false;

async function start() {
  const m = location.hash.match(/^#\/files(\/[^?]*)?$/);
  if (m || !location.hash) {
    const dir = decodeURIComponent((m && m[1]) || '/').replace(/\/+$/, '') || '/';
    firstListing = { dir, entries: api('GET', '/vault/ls', { path: dir }) };
    firstListing.entries.catch(() => {});
  }
  // Asked beside the session: a donor with no account of its own has the
  // Donor and Node pages only.
  const idAsked = api('GET', '/id');
  idAsked.catch(() => {});
  const res = await fetch('/ui/session', { credentials: 'same-origin' });
  if (res.status === 401) { location.href = '/login'; return; }
  csrf = (await res.json()).csrf;
  try {
    const id = await idAsked;
    if (id.donor_only) {
      donorOnly = true;
      for (const a of document.querySelectorAll('#nav a')) a.hidden = a.dataset.view !== 'donor' && a.dataset.view !== 'node';
      firstListing = null;
    }
  } catch (err) { /* the pages say what fails */ }
  document.getElementById('logout').addEventListener('click', async () => {
    await fetch('/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
    location.href = '/login';
  });
  window.addEventListener('hashchange', route);
  route();
}

start();
