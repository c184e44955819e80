# «Асинхронность с нуля на C» — сборка книги-программы. Список целей: make help.
#
# Всё, что собирается, ложится в build/. Программы — build/bin/NN-глава-файл,
# они же с санитайзерами — build/asan/bin/…; книга — build/book.pdf,
# build/book.html (одной страницей), build/web/ (по странице на главу),
# build/book.epub. make работает параллельно (по числу ядер) и печатает по
# строке на шаг; make V=1 печатает полные команды.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDARY:
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2) --no-print-directory

CC      ?= gcc
WARN    := -Wall -Wextra -Wpedantic -Werror
CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -g -O2
ASAN    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS  := -lcurl -lm
TESTLIBS:= -lcmocka
# tests/test_alloc_failures.c fails the library's allocations one by one
LDFLAGS_test_alloc_failures := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
# the compiler's messages name lines of the book (see tangle.sh --lines)
NWCC    := book/tools/nwcc

# One line per step (CC lib/net.c); V=1 shows the commands themselves.
V ?= 0
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' '$(1)' '$(2)'
endif

# Debian packages: for the build and the book (make), and for the tests (make test).
PKG_BUILD := gcc libc6-dev make perl noweb libcmocka-dev libcurl4-openssl-dev
PKG_BOOK  := pandoc graphviz gnuplot-nox texlive-xetex texlive-latex-recommended texlive-latex-extra \
             texlive-lang-cyrillic texlive-fonts-recommended lmodern \
             fonts-dejavu-core fonts-dejavu-extra poppler-utils
PKG_TEST  := curl netcat-openbsd procps apache2-utils valgrind chromium python3 nginx-light tidy
PACKAGES  := $(PKG_BUILD) $(PKG_BOOK)

CHAPTERS := $(sort $(wildcard book/*.nw))
SRC := build/src

.PHONY: FORCE coverage all deps programs book html pdf epub test check bench clean fuzz valgrind tests-built help

all: programs book
	@n=$$(ls build/bin | wc -l); p=$$(pdfinfo build/book.pdf 2>/dev/null | sed -n 's/^Pages: *//p'); \
	w=$$(ls build/web/*.html | wc -l); \
	echo "Готово: $$n программ в build/bin (и с санитайзерами в build/asan/bin);" \
	  "книга: build/book.pdf ($$p с.), build/book.html, build/web/index.html ($$w стр.), build/book.epub"

help:
	@echo 'make            пакеты, извлечение кода, программы, книга (PDF, HTML, EPUB)'
	@echo 'make html       только HTML: build/book.html и build/web/ — быстрый круг правки текста'
	@echo 'make pdf        только build/book.pdf;  make epub — только build/book.epub'
	@echo 'make programs   только программы (build/bin, build/asan/bin)'
	@echo 'make test       всё и все тесты; в конце — таблица наборов и путь к журналу каждого провала'
	@echo 'make check      совпадает ли generated/ с книгой (показывает разницу и строки главы)'
	@echo 'make valgrind   тесты и демо-программы под valgrind memcheck'
	@echo 'make coverage   тесты на сборке с gcov: покрытие по фрагментам книги (book/data/coverage*.tsv)'
	@echo 'make fuzz       libFuzzer по каждой цели tests/fuzz/ (FUZZ_SECONDS=60 на цель)'
	@echo 'make bench      измерения (~11 мин, переписывают book/data/; не входят в make test)'
	@echo 'make clean      удалить build/'
	@echo 'V=1             печатать команды целиком;  -jN — число параллельных заданий (по умолчанию — ядер)'

# ---------------------------------------------------------------- deps
# Installs what is missing (as root) or prints the exact command (otherwise).
deps: build/.deps
define install_missing
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "deps: устанавливаю" $$missing; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "Не хватает пакетов. Выполните:"; \
	    echo "  sudo apt-get update && sudo apt-get install --no-install-recommends" $$missing; \
	    exit 1; \
	  fi; \
	fi
endef
build/.deps: Makefile
	$(call install_missing,$(PACKAGES))
	@mkdir -p build && touch $@
build/.deps-test: Makefile | build/.deps
	$(call install_missing,$(PKG_TEST))
	@touch $@

# ---------------------------------------------------------------- tangle
# generated/ for readers, build/src/ for the compiler: the same files, each
# .c/.h with its line map beside it (tangle.sh --lines). build/src/files.mk
# lists what the tangle produced; make reads it, so a failed tangle (an
# undefined chunk, a missing package) stops make before anything else runs.
# It also depends on generated/: a hand edit there stops make with the diff.
$(SRC)/files.mk: $(CHAPTERS) tangle.sh book/tools/nwlint.pl book/tools/tangle.pl \
                 $(shell find generated -type f 2>/dev/null) | build/.deps
	$(call say,TANGLE,book/*.nw -> generated/ $(SRC)/)
	$(Q)./tangle.sh --lines $(SRC)
	@cd $(SRC) && { \
	  echo "LIB_SRCS := $$(find lib -name '*.c' 2>/dev/null | sort | tr '\n' ' ')"; \
	  apps=$$(find . -mindepth 2 -name '*.c' -not -path './lib/*' -not -path './chapters/*' | sed 's|^\./||' | sort); \
	  echo "APP_SRCS := $$(echo $$apps)"; \
	  echo "MAIN_SRCS := $$(grep -lE '^int main\(' $$apps /dev/null | sort | tr '\n' ' ')"; \
	  echo "HTML := $$(find . -name '*.html' -not -path './chapters/*' | sed 's|^\./||' | sort | tr '\n' ' ')"; \
	} >files.mk.tmp && mv files.mk.tmp files.mk
	@# chapters/SLUG -> ../NN-SLUG: tests that include a program's source
	@# (the fuzz targets) name it by slug, so renumbering leaves them alone
	@cd $(SRC) && rm -rf chapters && mkdir chapters && \
	  for d in [0-9][0-9]-*/; do ln -s "../$${d%/}" "chapters/$${d:3:-1}"; done

# Goals that need no tangle; any other goal (or none) reads files.mk, and
# make stops if it cannot be made.
NO_TANGLE := clean deps help check
ifneq ($(if $(MAKECMDGOALS),$(filter-out $(NO_TANGLE),$(MAKECMDGOALS)),all),)
include $(SRC)/files.mk
endif

CHAP_SRCS := $(filter-out $(MAIN_SRCS),$(APP_SRCS))
INCS  := $(HTML:%=$(SRC)/%.inc)
FUZZ  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
TESTS := $(patsubst tests/%.c,%,$(filter-out tests/support.c,$(wildcard tests/*.c)))
progname = $(subst /,-,$(dir $(1)))$(notdir $(basename $(1)))
PROGS := $(foreach m,$(MAIN_SRCS),$(call progname,$(m)))

# $(1) = build root (build or build/asan), $(2) = extra flags, $(3) = tag in the step lines
define variant
$(1)/obj/%.o: $(SRC)/%.c | $(INCS)
	@mkdir -p $$(@D)
	$$(call say,CC$(3),$$*.c)
	$$(Q)$$(NWCC) $$(CC) $$(CFLAGS) $(2) -I$(SRC)/lib -MMD -MP -c $$< -o $$@
$(1)/obj/tests/%.o: tests/%.c | $(INCS)
	@mkdir -p $$(@D)
	$$(call say,CC$(3),tests/$$*.c)
	$$(Q)$$(NWCC) $$(CC) $$(CFLAGS) $(2) -I$(SRC)/lib -Itests -MMD -MP -c $$< -o $$@
$(1)/lib/libbook.a: $(LIB_SRCS:%.c=$(1)/obj/%.o)
	@mkdir -p $$(@D)
	$$(call say,AR$(3),$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
$(1)/lib/libchapters.a: $(CHAP_SRCS:%.c=$(1)/obj/%.o)
	@mkdir -p $$(@D)
	$$(call say,AR$(3),$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
$(TESTS:%=$(1)/tests/%): $(1)/tests/%: $(1)/obj/tests/%.o $(1)/obj/tests/support.o $(1)/lib/libchapters.a $(1)/lib/libbook.a | $(1)/tests/malloc_count.so
	@mkdir -p $$(@D)
	$$(call say,LD$(3),$$@)
	$$(Q)$$(CC) $$(CFLAGS) $(2) $$(LDFLAGS_$$*) -o $$@ $$< $(1)/obj/tests/support.o $(1)/lib/libchapters.a $(1)/lib/libbook.a $$(TESTLIBS) $$(LDLIBS)
# the LD_PRELOAD malloc counter of test_alloc (plain flags: not for ASan)
$(1)/tests/malloc_count.so: tests/preload/malloc_count.c
	@mkdir -p $$(@D)
	$$(call say,LD$(3),$$@)
	$$(Q)$$(CC) $$(CFLAGS) -fPIC -shared -o $$@ $$<
-include $$(shell find $(1)/obj -name '*.d' 2>/dev/null)
endef

# $(1) = build root, $(2) = extra flags, $(3) = the source with main(), $(4) = tag
define program
$(1)/bin/$(call progname,$(3)): $(1)/obj/$(3:.c=.o) $(1)/lib/libchapters.a $(1)/lib/libbook.a
	@mkdir -p $$(@D)
	$$(call say,LD$(4),$$@)
	$$(Q)$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(LDLIBS)
endef

$(eval $(call variant,build,,))
$(eval $(call variant,build/asan,$(ASAN),:asan))
$(foreach m,$(MAIN_SRCS),$(eval $(call program,build,,$(m),)))
$(foreach m,$(MAIN_SRCS),$(eval $(call program,build/asan,$(ASAN),$(m),:asan)))

# make coverage: a third build with gcov instrumentation (tests/coverage.sh).
# BOOK_COVERAGE: a test that ends with _exit writes its counts first
# (__gcov_dump), or they would be lost.
COVFLAGS := --coverage -O0 -DBOOK_COVERAGE
$(eval $(call variant,build/cov,$(COVFLAGS),:cov))
$(foreach m,$(MAIN_SRCS),$(eval $(call program,build/cov,$(COVFLAGS),$(m),:cov)))

# An HTML template becomes a C string literal, one "…\n" per line.
$(SRC)/%.html.inc: $(SRC)/%.html
	$(call say,INC,$*.html)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< >$@

programs: build/lib/libbook.a build/asan/lib/libbook.a build/lib/libchapters.a \
          $(PROGS:%=build/bin/%) $(PROGS:%=build/asan/bin/%)
	@# a program the book no longer has (a renumbered chapter) goes too:
	@# tests find programs by name without the number and must not see two
	@for d in build/bin build/asan/bin; do \
	  for f in $$d/*; do case " $(PROGS) " in *" $${f##*/} "*) ;; *) rm -f "$$f" ;; esac; done; \
	done

tests-built: $(TESTS:%=build/tests/%) $(TESTS:%=build/asan/tests/%) programs \
             $(FUZZ:%=build/asan/fuzz/replay_%)

# ---------------------------------------------------------------- weave
# Figures: graphviz diagrams (book/figures/NAME.dot) and gnuplot plots of
# measured data (book/figures/NAME.gp, reading book/data/*.tsv, run from
# book/figures/); each becomes SVG for the HTML and PDF for the PDF. Text in
# a figure must stay legible in print (tests/check-figures.sh: 7 pt at
# least): book/tools/dotfig.sh lays a diagram out to fit the text block, and
# gnuplot draws a plot at the width it is printed (16 cm) with 9-10 pt text
# (pdfcairo's own default scales fonts by half).
FIGS := $(patsubst book/figures/%.dot,%,$(wildcard book/figures/*.dot)) \
        $(patsubst book/figures/%.gp,%,$(wildcard book/figures/*.gp))
DATA := $(wildcard book/data/*)
GNUPLOT_PDF := set terminal pdfcairo size 16cm,9cm font 'DejaVu Sans,10' fontscale 0.75
GNUPLOT_SVG := set terminal svg size 760,430 dynamic font 'DejaVu Sans,13'
book: build/book.html build/web/index.html build/book.epub build/book.pdf
html: build/book.html build/web/index.html
pdf: build/book.pdf
epub: build/book.epub

build/figures/%.svg: book/figures/%.dot book/tools/dotfig.sh | build/.deps
	@mkdir -p $(@D)
	$(call say,DOT,$@)
	$(Q)book/tools/dotfig.sh svg $< $@
build/figures/%.pdf: book/figures/%.dot book/tools/dotfig.sh | build/.deps
	@mkdir -p $(@D)
	$(call say,DOT,$@)
	$(Q)book/tools/dotfig.sh pdf $< $@
# The terminal settings above are part of every plot: a plot is redrawn when
# they change, not only when its script or data do.
build/figures/gnuplot.cfg: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' "$(GNUPLOT_PDF)" "$(GNUPLOT_SVG)" | cmp -s - $@ || \
	  printf '%s\n' "$(GNUPLOT_PDF)" "$(GNUPLOT_SVG)" >$@
build/figures/%.svg: book/figures/%.gp $(DATA) build/figures/gnuplot.cfg | build/.deps
	@mkdir -p $(@D)
	$(call say,PLOT,$@)
	$(Q)cd book/figures && gnuplot -e "$(GNUPLOT_SVG); set output '$(CURDIR)/$@'" $*.gp
build/figures/%.pdf: book/figures/%.gp $(DATA) build/figures/gnuplot.cfg | build/.deps
	@mkdir -p $(@D)
	$(call say,PLOT,$@)
	$(Q)cd book/figures && gnuplot -e "$(GNUPLOT_PDF); set output '$(CURDIR)/$@'" $*.gp

# The version on the title page: git describe, or the date without git.
# build/version.txt changes only when the version does.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo "без git, $$(date +%F)")
DATE    := $(shell git log -1 --format=%cd --date=short 2>/dev/null || date +%F)
build/version.txt: FORCE | build/.deps
	@echo "$(VERSION) $(DATE)" | cmp -s - $@ || echo "$(VERSION) $(DATE)" >$@
FORCE:

build/book.md: $(CHAPTERS) book/tools/nw2md.pl book/subjects.txt book/tables.txt $(DATA) build/version.txt $(SRC)/files.mk
	$(call say,WEAVE,$@)
	$(Q)/usr/lib/noweb/markup $(CHAPTERS) | perl book/tools/nw2md.pl >$@.tmp && mv $@.tmp $@

PANDOC := pandoc -f markdown+smart --metadata-file=book/metadata.yaml \
          -M date="Версия $(VERSION), $(DATE)" --citeproc --bibliography=book/book.bib \
          --number-sections --toc --toc-depth=2 --resource-path=build:book --highlight-style=tango

build/book.html: build/book.md book/book.css book/metadata.yaml book/book.bib book/tools/linkify.pl \
                 $(FIGS:%=build/figures/%.svg)
	$(call say,HTML,$@)
	$(Q)$(PANDOC) -t html5 -s --self-contained --css=book/book.css \
	  --default-image-extension=svg $< -o build/book.raw.html
	$(Q)perl book/tools/linkify.pl html <build/book.raw.html >$@

# One page per chapter: pandoc writes the whole book (figures as files),
# webbook.pl cuts it at the chapters and gives every page the contents, the
# neighbours' links and links that cross pages.
build/web/index.html: build/book.md book/book.css book/metadata.yaml book/book.bib book/tools/linkify.pl \
                      book/tools/webbook.pl $(FIGS:%=build/figures/%.svg)
	$(call say,WEB,build/web/)
	$(Q)rm -rf build/web && mkdir -p build/web/figures
	$(Q)$(PANDOC) -t html5 -s --section-divs --default-image-extension=svg $< -o build/web.raw.html
	$(Q)perl book/tools/linkify.pl html <build/web.raw.html | perl book/tools/webbook.pl build/web
	$(Q)cp book/book.css build/web/ && cp $(FIGS:%=build/figures/%.svg) build/web/figures/

# EPUB: pandoc's, then epubfix.pl letters the appendices and links chunk uses
# in code across the EPUB's files, as linkify.pl does for the HTML.
build/book.epub: build/book.md book/epub.css book/metadata.yaml book/book.bib book/tools/linkify.pl \
                 book/tools/epubfix.pl $(FIGS:%=build/figures/%.svg)
	$(call say,EPUB,$@)
	$(Q)$(PANDOC) -t epub3 --css=book/epub.css --epub-chapter-level=1 \
	  --default-image-extension=svg $< -o build/book.raw.epub
	$(Q)perl book/tools/epubfix.pl build/book.raw.epub $@

# XeLaTeX runs again only while the cross references it writes (.aux, .toc,
# .out) still change: a prose edit costs one or two passes, not three.
build/book.pdf: build/book.md book/header.tex book/metadata.yaml book/book.bib book/tools/linkify.pl \
                $(FIGS:%=build/figures/%.pdf)
	@mkdir -p build/latex
	$(call say,LATEX,build/latex/book.tex)
	$(Q)$(PANDOC) -t latex -s --top-level-division=chapter --include-in-header=book/header.tex \
	  --default-image-extension=pdf $< -o build/latex/book.raw.tex
	$(Q)perl book/tools/linkify.pl latex <build/latex/book.raw.tex >build/latex/book.tex
	$(Q)cd build/latex && for pass in 1 2 3 4 5; do \
	  before=$$({ cat book.aux book.toc book.out 2>/dev/null || true; } | md5sum); \
	  $(if $(Q),printf '  %-7s %s\n' PDF "build/book.pdf (проход $$pass)";) \
	  TEXINPUTS=.:../../book:../: xelatex -interaction=nonstopmode -halt-on-error book.tex >/dev/null \
	    || { tail -40 book.log; exit 1; }; \
	  [ "$$before" != "$$({ cat book.aux book.toc book.out 2>/dev/null || true; } | md5sum)" ] || break; \
	done
	@if grep -n 'Missing character' build/latex/book.log; then \
	  echo "book.pdf: в шрифте нет глифов для символов выше — XeLaTeX выбросил бы их молча"; exit 1; fi
	$(Q)cp build/latex/book.pdf $@

# ---------------------------------------------------------------- fuzz
# tests/fuzz/fuzz_NAME.c is a libFuzzer target, tests/fuzz/corpus/NAME/ its
# committed corpus. make test replays the corpus through the target built with
# gcc and ASan+UBSan (replay.c plays libFuzzer's part); make fuzz runs the real
# libFuzzer (clang) for FUZZ_SECONDS per target. A crash lands in the corpus
# folder as crash-…: fix the bug and commit the file, it stays a regression test.
FUZZ_SECONDS ?= 60
PKG_FUZZ := clang libclang-rt-14-dev

# A target may #include a program's source (to fuzz its static functions), so
# its object is compiled on its own with -MMD: an edited chapter rebuilds it.
build/asan/fuzz/%.o: tests/fuzz/%.c | $(INCS)
	@mkdir -p $(@D)
	$(call say,CC:asan,tests/fuzz/$*.c)
	$(Q)$(NWCC) $(CC) $(CFLAGS) $(ASAN) -I$(SRC)/lib -I$(SRC)/chapters -I$(SRC) -MMD -MP -c $< -o $@
build/asan/fuzz/replay_%: build/asan/fuzz/fuzz_%.o build/asan/fuzz/replay.o build/asan/lib/libchapters.a build/asan/lib/libbook.a
	$(call say,LD:asan,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN) -o $@ $^ $(LDLIBS)

FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined -I$(SRC)/lib -I$(SRC)/chapters -I$(SRC)
build/fuzz/obj/%.o: $(SRC)/%.c | $(INCS) build/.deps-fuzz
	@mkdir -p $(@D)
	$(call say,CC:fuzz,$*.c)
	$(Q)$(NWCC) clang $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -MMD -MP -c $< -o $@
build/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c | $(INCS) build/.deps-fuzz
	@mkdir -p $(@D)
	$(call say,CC:fuzz,tests/fuzz/fuzz_$*.c)
	$(Q)$(NWCC) clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/fuzz_%: build/fuzz/fuzz_%.o $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRCS) $(CHAP_SRCS))
	$(call say,LD:fuzz,$@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)
-include $(shell find build/asan/fuzz build/fuzz -name '*.d' 2>/dev/null)

build/.deps-fuzz: Makefile | build/.deps
	$(call install_missing,$(PKG_FUZZ))
	@touch $@

fuzz: $(FUZZ:%=build/fuzz/fuzz_%)
	@for t in $(FUZZ); do \
	  echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; mkdir -p build/fuzz/found-$$t; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=tests/fuzz/corpus/$$t/ build/fuzz/found-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# ---------------------------------------------------------------- test
check: | build/.deps
	./tangle.sh --check

test: check tests-built book build/.deps-test
	tests/run.sh

coverage: $(TESTS:%=build/cov/tests/%) $(PROGS:%=build/cov/bin/%) build/.deps-test
	@# a program the book no longer makes would still run in the tests (test_cli
	@# runs every program) and, built from old objects, overwrite their counts
	@for f in build/cov/bin/*; do case " $(PROGS) " in *" $${f##*/} "*) ;; *) rm -f "$$f" ;; esac; done
	tests/coverage.sh

valgrind: tests-built build/.deps-test
	tests/valgrind.sh

# Benchmarks need the peers they compare against (wrk, nginx, libuv, python3),
# taskset, and strace and perf for the profile of downloads; they rewrite
# book/data/*.tsv, and the next make redraws the appendix «Измерения».
# Never part of make test.
PKG_BENCH := wrk nginx-light libuv1-dev pkg-config python3 util-linux strace linux-perf

build/.deps-bench: Makefile | build/.deps
	$(call install_missing,$(PKG_BENCH))
	@touch $@

bench: programs build/.deps-bench
	@mkdir -p build/bench
	@for b in tests/bench/*.sh; do [ -x "$$b" ] || continue; echo "== $$b"; BOOK_BIN=build/bin $$b; done

clean:
	rm -rf build
