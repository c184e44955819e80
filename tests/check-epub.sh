#!/usr/bin/env bash
# build/book.epub is a well-formed EPUB 3 an e-reader can open: the mimetype
# first and stored, a container pointing to the package, every file of the
# manifest present and every XHTML file well-formed, every chapter in the
# reading order and the navigation, every figure of the book inside, every
# internal link and image resolving; code blocks wrap (pre-wrap) instead of
# being cut at the screen's edge, all the chunks of the book are there and
# every chunk use in code links to its chunk; the appendices are lettered.
set -euo pipefail
cd "$(dirname "$0")/.."
epub=build/book.epub md=build/book.md
for f in $epub $md; do [ -s "$f" ] || { echo "нет $f: сначала make epub"; exit 1; }; done
python3 - "$epub" "$md" <<'EOF'
import posixpath, re, sys, zipfile
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

epub, md = sys.argv[1], sys.argv[2]
problems = []
z = zipfile.ZipFile(epub)
names = z.namelist()
first = z.infolist()[0]
if first.filename != 'mimetype' or first.compress_type != zipfile.ZIP_STORED \
        or z.read('mimetype') != b'application/epub+zip':
    problems.append('mimetype не первый, сжат или не application/epub+zip')
NS = {'c': 'urn:oasis:names:tc:opendocument:xmlns:container', 'o': 'http://www.idpf.org/2007/opf'}
opf_path = ET.fromstring(z.read('META-INF/container.xml')).find('.//c:rootfile', NS).get('full-path')
opf = ET.fromstring(z.read(opf_path))
base = posixpath.dirname(opf_path)
manifest = {i.get('id'): posixpath.normpath(posixpath.join(base, unquote(i.get('href'))))
            for i in opf.find('o:manifest', NS)}
for path in manifest.values():
    if path not in names:
        problems.append(f'в манифесте, но нет в архиве: {path}')
spine = [manifest[i.get('idref')] for i in opf.find('o:spine', NS)]
nav = [p for i, p in manifest.items()
       if 'nav' in (opf.find(f'o:manifest/o:item[@id="{i}"]', NS).get('properties') or '')]
if not nav:
    problems.append('нет оглавления (nav)')

ids, docs = {}, {}
for path in names:
    if path.endswith('.xhtml'):
        text = z.read(path).decode('utf-8')
        try:
            ET.fromstring(text)
        except ET.ParseError as e:
            problems.append(f'{path}: не XML: {e}')
            continue
        docs[path] = text
        ids[path] = set(re.findall(r'\bid="([^"]+)"', text))
links = images = 0
for path, text in docs.items():
    for kind, ref in re.findall(r'\b(href|src)="([^"]+)"', text):
        u = urlsplit(ref)
        if u.scheme or ref.startswith('//'):
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(u.path))) if u.path else path
        if target not in names:
            problems.append(f'{path}: {ref}: нет файла')
        elif u.fragment and target in ids and u.fragment not in ids[target]:
            problems.append(f'{path}: {ref}: нет якоря')
        links += kind == 'href'
        images += kind == 'src' and target.endswith(('.svg', '.png', '.jpg'))

book = open(md, encoding='utf-8').read()
chapters = re.findall(r'^# (.+?)\s*\{#([\w-]+)', book, re.M)
text_all = '\n'.join(docs[p] for p in spine if p in docs)
for title, anchor in chapters:
    if f'id="{anchor}"' not in text_all:
        problems.append(f'в порядке чтения нет главы «{title}» (#{anchor})')
figures = set(re.findall(r'\]\(figures/([\w-]+)\)', book))
svgs = [n for n in names if n.endswith('.svg')]   # pandoc renames them media/fileN.svg
if len(svgs) != len(figures) or images < len(figures):
    problems.append(f'рисунков в книге {len(figures)}, в EPUB {len(svgs)}, на страницах {images}')
chunks = len(re.findall(r'\{#nw-[0-9A-Z]+-\d+ \.nwtag\}', book))
in_epub = len(re.findall(r'id="nw-[0-9A-Z]+-\d+"', text_all))
if in_epub != chunks:
    problems.append(f'фрагментов в книге {chunks}, в EPUB {in_epub}')
uses = 0
in_code = False
for line in book.splitlines():
    if line.startswith('~~~~~~~~'):
        in_code = not in_code
    elif in_code:
        uses += len(re.findall(r'⟨[^⟨⟩]*\s(?:\d+|[А-Я]):\d+⟩', line))
code_links = len(re.findall(r'class="nwref" href="[^"]*#nw-', text_all))
if code_links != uses:
    problems.append(f'употреблений фрагментов в коде {uses}, ссылок на них в EPUB {code_links}')
appendices = re.findall(r'^# (.+?)\s*\{#[\w-]+ \.appendix\}', book, re.M)
navs = ''.join(z.read(n).decode('utf-8') for n in names if n.endswith(('nav.xhtml', '.ncx')))
for i, title in enumerate(appendices):
    letter = 'АБВГДЕ'[i]
    if not re.search(rf'>{letter}</span> {re.escape(title)}<', navs) or f'<text>{letter} {title}</text>' not in navs:
        problems.append(f'в оглавлении EPUB приложение «{title}» не под буквой {letter}')
css = ''.join(z.read(n).decode('utf-8') for n in names if n.endswith('.css'))
if not re.search(r'pre\s*\{[^}]*white-space:\s*pre-wrap', css):
    problems.append('код в EPUB не переносится (нет pre { white-space: pre-wrap })')

print(f'EPUB: {len(spine)} файлов в порядке чтения, {len(chapters)} глав, {len(appendices)} приложения, '
      f'{in_epub} фрагментов, {code_links} ссылок из кода, {len(figures)} рисунков, {links} ссылок, {images} картинок')
for p in problems[:40]:
    print('  ' + p)
sys.exit(1 if problems else 0)
EOF
