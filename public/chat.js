// topicdesk visitor page: speaks visitor protocol v1 over Socket.IO.
// Every text is rendered with textContent: nothing a person writes becomes HTML.
(function () {
  'use strict';
  var TOKEN_KEY = 'topicdesk.token';
  var strings = {
    en: { title: 'Support', connecting: 'Connecting…', online: 'Support is online', away: 'Support is away', offline: 'Offline — reconnecting…', label: 'Your message', placeholder: 'Write a message…', send: 'Send', failed: 'Not sent: ', you: 'You', staff: 'Support', closed: 'This conversation was closed. Write to reopen it.' },
    tr: { title: 'Destek', connecting: 'Bağlanıyor…', online: 'Destek çevrimiçi', away: 'Destek şu an uzakta', offline: 'Çevrimdışı — yeniden bağlanıyor…', label: 'Mesajınız', placeholder: 'Bir mesaj yazın…', send: 'Gönder', failed: 'Gönderilemedi: ', you: 'Siz', staff: 'Destek', closed: 'Bu görüşme kapatıldı. Yeniden açmak için yazın.' },
  };
  var lang = (navigator.language || 'en').toLowerCase().indexOf('tr') === 0 ? 'tr' : 'en';
  var t = strings[lang];
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach(function (el) { el.textContent = t[el.getAttribute('data-i18n')]; });
  document.querySelectorAll('[data-i18n-placeholder]').forEach(function (el) { el.setAttribute('placeholder', t[el.getAttribute('data-i18n-placeholder')]); });

  var list = document.getElementById('messages');
  var statusEl = document.getElementById('status');
  var notice = document.getElementById('notice');
  var form = document.getElementById('composer');
  var input = document.getElementById('text');
  var seen = new Map(); // message id -> element
  var lastId = 0;

  function token() { try { return localStorage.getItem(TOKEN_KEY) || undefined; } catch (e) { return undefined; } }
  function saveToken(v) { try { localStorage.setItem(TOKEN_KEY, v); } catch (e) { /* private mode */ } }
  function newClientId() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  function appendLinkified(parent, text) {
    var re = /\bhttps?:\/\/[^\s<>"']+/g, last = 0, m;
    while ((m = re.exec(text))) {
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement('a');
      a.href = m[0]; a.textContent = m[0]; a.target = '_blank'; a.rel = 'noopener noreferrer';
      parent.appendChild(a);
      last = m.index + m[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function render(m) {
    if (seen.has(m.id)) return update(m);
    var li = document.createElement('li');
    li.className = 'msg msg--' + m.sender;
    li.dataset.id = String(m.id);
    var body = document.createElement('span');
    body.className = 'msg__text';
    appendLinkified(body, m.text || '');
    var meta = document.createElement('span');
    meta.className = 'msg__meta';
    li.appendChild(body); li.appendChild(meta);
    seen.set(m.id, li);
    setMeta(li, m);
    var before = null;
    for (var i = list.children.length - 1; i >= 0; i--) {
      var id = Number(list.children[i].dataset.id);
      if (id && id < m.id) break;
      if (id > m.id) before = list.children[i];
    }
    list.insertBefore(li, before);
    if (m.id > lastId) lastId = m.id;
    list.scrollTop = list.scrollHeight;
  }
  function setMeta(li, m) {
    var time = new Date(m.createdAt).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
    var ticks = m.sender === 'visitor' ? (m.status === 'delivered' ? ' ✓✓' : ' ✓') : '';
    li.querySelector('.msg__meta').textContent = time + ticks;
  }
  function update(m) {
    var li = seen.get(m.id);
    if (!li) return;
    var body = li.querySelector('.msg__text');
    body.textContent = '';
    appendLinkified(body, m.text || '');
    setMeta(li, m);
  }

  function showNotice(text) { notice.textContent = text; notice.hidden = !text; }

  var socket = io({ auth: function (cb) { cb({ token: token() }); } });
  socket.on('connect_error', function () { statusEl.textContent = t.offline; });
  socket.on('disconnect', function () { statusEl.textContent = t.offline; });
  socket.on('session', function (s) {
    saveToken(s.token);
    socket.emit('history', lastId ? { after: lastId, limit: 200 } : { limit: 100 }, function (res) {
      if (res && res.ok) res.messages.forEach(render);
    });
  });
  socket.on('support:status', function (s) { statusEl.textContent = s.status === 'away' ? (s.message || t.away) : t.online; });
  socket.on('message', render);
  socket.on('message:update', update);
  socket.on('message:status', function (s) {
    var li = seen.get(s.id);
    if (li) li.querySelector('.msg__meta').textContent = li.querySelector('.msg__meta').textContent.replace(/ ✓$/, ' ✓✓');
  });
  socket.on('thread:status', function (s) { showNotice(s.status === 'closed' ? t.closed : ''); });

  function send() {
    var text = input.value.trim();
    if (!text) return;
    var payload = { text: text, clientId: newClientId() };
    input.value = '';
    socket.timeout(15000).emit('message:send', payload, function (err, res) {
      if (err) { showNotice(t.failed + 'timeout'); input.value = text; return; }
      if (!res.ok) { showNotice(t.failed + res.error.message); input.value = text; return; }
      showNotice('');
      render(res.message);
    });
  }
  form.addEventListener('submit', function (e) { e.preventDefault(); send(); });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  input.addEventListener('input', function () { input.style.height = 'auto'; input.style.height = Math.min(input.scrollHeight, 160) + 'px'; });
})();
