#!/usr/bin/env python3
"""browser.py PAGE.html… — loads each page of the book in headless Chromium
(the DevTools protocol over a pipe, no network) at a phone's width, 390 px,
and fails on:
  - a console error, an uncaught exception or a resource that did not load;
  - a request to anything but a local file (the book must work offline);
  - an element wider than the viewport, unless it sits in a box that
    scrolls (code, wide tables) — and the page itself must not scroll sideways;
  - an image that did not load;
  - an internal link (href without a scheme) whose page is not among the
    pages given or whose anchor that page lacks.
Prints one line per page and the problems; exit status 1 if any.
`browser.py --selftest` builds two pages with one fault of each kind and
fails unless every fault is reported (so the check itself can fail)."""
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

WIDTH, HEIGHT = 390, 844
TIMEOUT = 60  # seconds per page

CHECK_JS = r"""
(() => {
  const W = document.documentElement.clientWidth;
  const scrolls = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if ((r.right > W + 1 || r.left < -1) && !scrolls(el)) {
      const id = el.id ? '#' + el.id : (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '');
      wide.push(`<${el.tagName.toLowerCase()}${id}> ${Math.round(r.width)} px, ${Math.round(r.left)}..${Math.round(r.right)}: ${(el.textContent || '').trim().slice(0, 40)}`);
    }
  }
  return {
    width: W,
    scrollWidth: document.documentElement.scrollWidth,
    wide: wide,
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    names: [...document.querySelectorAll('a[name]')].map(e => e.getAttribute('name')),
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    badImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src').slice(0, 80)),
  };
})()
"""


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix='book-chromium-')
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium's ends, moved above 10 so that dup2 to 3 and 4 clobbers nothing
        to_chrome_r, from_chrome_w = [self._high(fd) for fd in (to_chrome_r, from_chrome_w)]

        def fds():  # the pipe ends Chromium expects: 3 = commands, 4 = answers
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        exe = shutil.which('chromium') or shutil.which('chromium-browser')
        if not exe:
            sys.exit('browser.py: нет chromium (make test ставит пакет chromium)')
        self.proc = subprocess.Popen(
            [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--disable-extensions', '--mute-audio', '--hide-scrollbars',
             f'--user-data-dir={self.profile}', '--remote-debugging-pipe', 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b''
        self.next_id = 0
        self.events = []

    @staticmethod
    def _high(fd):
        high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
        os.close(fd)
        return high

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b'\0')
        return self.next_id

    def read(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('Chromium не ответил вовремя')
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if ready:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError('Chromium закрыл канал (упал?)')
                self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=TIMEOUT):
        want = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.read(deadline)
            if msg.get('id') == want:
                if 'error' in msg:
                    raise RuntimeError(f'{method}: {msg["error"]}')
                return msg.get('result', {})
            self.events.append(msg)

    def wait_event(self, method, session, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        for i, msg in enumerate(self.events):
            if msg.get('method') == method and msg.get('sessionId') == session:
                del self.events[i]
                return msg
        while True:
            msg = self.read(deadline)
            if msg.get('method') == method and msg.get('sessionId') == session:
                return msg
            self.events.append(msg)

    def close(self):
        try:
            self.send('Browser.close')
            self.proc.wait(timeout=10)
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)


def problems_of_events(events, session):
    out = []
    for msg in events:
        if msg.get('sessionId') != session:
            continue
        m, p = msg.get('method'), msg.get('params', {})
        if m == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            out.append('исключение: ' + (d.get('exception', {}).get('description') or d.get('text', '')))
        elif m == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            out.append('console.error: ' + ' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', [])))
        elif m == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
            e = p['entry']
            out.append(f'ошибка в консоли: {e.get("text", "")} {e.get("url", "")}'.strip())
        elif m == 'Network.requestWillBeSent':
            url = p.get('request', {}).get('url', '')
            if not url.startswith(('file:', 'data:', 'about:')):
                out.append(f'запрос в сеть: {url}')
    return out


def check(pages):
    pages = [Path(p).resolve() for p in pages]
    known = {p: None for p in pages}
    br = Browser()
    failed = False
    try:
        br.call('Target.setDiscoverTargets', {'discover': False})
        target = br.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = br.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            br.call(f'{domain}.enable', session=session)
        br.call('Emulation.setDeviceMetricsOverride',
                {'width': WIDTH, 'height': HEIGHT, 'deviceScaleFactor': 1, 'mobile': True}, session=session)
        results = {}
        for page in pages:
            br.events = [e for e in br.events if e.get('sessionId') != session]
            br.call('Page.navigate', {'url': page.as_uri()}, session=session)
            br.wait_event('Page.loadEventFired', session)
            r = br.call('Runtime.evaluate', {'expression': CHECK_JS, 'returnByValue': True}, session=session)
            if 'exceptionDetails' in r:
                raise RuntimeError(f'{page.name}: проверка упала: {r["exceptionDetails"]}')
            res = r['result']['value']
            # events that arrived with the answers
            res['problems'] = problems_of_events(br.events, session)
            results[page] = res
            known[page] = set(res['ids']) | set(res['names'])
        for page in pages:
            res = results[page]
            probs = list(res['problems'])
            if res['width'] != WIDTH:
                probs.append(f'ширина раскладки {res["width"]} px, а не {WIDTH}: нет <meta name="viewport">?')
            if res['scrollWidth'] > res['width'] + 1:
                probs.append(f'страница шире экрана: {res["scrollWidth"]} px при {res["width"]} px')
            probs += [f'шире экрана: {w}' for w in res['wide'][:10]]
            if len(res['wide']) > 10:
                probs.append(f'… и ещё {len(res["wide"]) - 10} элементов шире экрана')
            probs += [f'картинка не загрузилась: {s}' for s in res['badImages']]
            bad_links = []
            for href in res['links']:
                u = urlsplit(href)
                if u.scheme or href.startswith('//'):
                    continue  # http(s), mailto: to the outside world, not loaded by the book
                target = (page.parent / unquote(u.path)).resolve() if u.path else page
                if target not in known:
                    if not target.exists():
                        bad_links.append(f'{href} (нет файла)')
                    continue
                if u.fragment and unquote(u.fragment) not in known[target]:
                    bad_links.append(f'{href} (нет якоря)')
            probs += [f'битая ссылка: {b}' for b in sorted(set(bad_links))[:20]]
            status = 'ok' if not probs else 'FAIL'
            print(f'{status}: {page.name}: {len(res["links"])} ссылок, {len(res["ids"])} якорей, ширина {res["width"]} px')
            for p in probs:
                print(f'   {p}')
            failed |= bool(probs)
    finally:
        br.close()
    return not failed


def selftest():
    d = Path(tempfile.mkdtemp(prefix='book-selftest-'))
    try:
        (d / 'a.html').write_text(
            '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width"></head><body>'
            '<p id="here"><a href="b.html#there">ok</a> <a href="b.html#nowhere">bad anchor</a>'
            ' <a href="c.html">missing page</a></p>'
            '<div style="width:600px">too wide</div>'
            '<pre style="overflow-x:auto"><span style="display:inline-block;width:900px">scrolls, fine</span></pre>'
            '<img src="missing.svg" alt="">'
            '<script>console.error("boom")</script></body></html>', encoding='utf-8')
        (d / 'b.html').write_text('<!DOCTYPE html><html><body><p id="there">b</p>'
                                  '<script>undefinedFunction()</script></body></html>', encoding='utf-8')
        out = subprocess.run([sys.executable, __file__, str(d / 'a.html'), str(d / 'b.html')],
                             capture_output=True, text=True, timeout=300).stdout
        expected = ['b.html#nowhere (нет якоря)', 'нет <meta name="viewport">', 'c.html (нет файла)', 'шире экрана: <div>', 'missing.svg',
                    'boom', 'undefinedFunction', 'страница шире экрана']
        missing = [e for e in expected if e not in out]
        unexpected = [w for w in ('b.html#there', 'scrolls') if w in out]
        if missing or unexpected:
            print(out)
            print('самопроверка: не замечено:', missing, '; лишнее:', unexpected)
            return False
        print('самопроверка: все подброшенные ошибки замечены')
        return True
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    if sys.argv[1:] == ['--selftest']:
        sys.exit(0 if selftest() else 1)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(0 if check(sys.argv[1:]) else 1)
