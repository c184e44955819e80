# «Асинхронность с нуля на C» — сборка книги-программы.
#
#   make          зависимости + tangle + программы + книга (build/book.html, build/book.pdf)
#   make test     то же + все тесты, в обычной сборке и под ASan+UBSan
#   make check    generated/ совпадает с книгой
#   make bench    измерения (не входят в make test; ~11 мин, переписывают book/data/)
#   make valgrind тесты и демо-программы под valgrind memcheck
#   make fuzz     libFuzzer по каждой цели tests/fuzz/ (FUZZ_SECONDS=60 на цель)
#   make clean    удалить build/
#
# Всё, что собирается, ложится в build/. Программы — build/bin/NN-глава-файл,
# они же с санитайзерами — build/asan/bin/…

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDARY:

CC      ?= gcc
WARN    := -Wall -Wextra -Wpedantic -Werror
CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -g -O2
ASAN    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS  := -lcurl -lm
TESTLIBS:= -lcmocka

# Debian packages: for the build, the book, and the tests.
PKG_BUILD := gcc libc6-dev make perl noweb libcmocka-dev libcurl4-openssl-dev
PKG_BOOK  := pandoc graphviz gnuplot-nox texlive-xetex texlive-latex-recommended texlive-latex-extra \
             texlive-lang-cyrillic texlive-fonts-recommended lmodern \
             fonts-dejavu-core fonts-dejavu-extra
PKG_TEST  := curl netcat-openbsd poppler-utils procps apache2-utils valgrind
PACKAGES  := $(PKG_BUILD) $(PKG_BOOK) $(PKG_TEST)

CHAPTERS := $(sort $(wildcard book/*.nw))
SRC := build/src

.PHONY: all deps programs book test check bench clean fuzz valgrind tests-built

all: programs book

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

# ---------------------------------------------------------------- tangle
# generated/ for readers, build/src/ with #line directives for the compiler.
# build/src/files.mk lists what the tangle produced; make rereads it.
$(SRC)/files.mk: $(CHAPTERS) tangle.sh book/tools/nwlint.pl | build/.deps
	./tangle.sh
	./tangle.sh --lines $(SRC)
	@cd $(SRC) && { \
	  echo "LIB_SRCS := $$(find lib -name '*.c' 2>/dev/null | sort | tr '\n' ' ')"; \
	  apps=$$(find . -mindepth 2 -name '*.c' -not -path './lib/*' | sed 's|^\./||' | sort); \
	  echo "APP_SRCS := $$(echo $$apps)"; \
	  echo "MAIN_SRCS := $$(grep -lE '^int main\(' $$apps /dev/null | sort | tr '\n' ' ')"; \
	  echo "HTML := $$(find . -name '*.html' | sed 's|^\./||' | sort | tr '\n' ' ')"; \
	} >files.mk.tmp && mv files.mk.tmp files.mk
	@# chapters/SLUG -> ../NN-SLUG: tests that include a program's source
	@# (the fuzz targets) name it by slug, so renumbering leaves them alone
	@cd $(SRC) && rm -rf chapters && mkdir chapters && \
	  for d in [0-9][0-9]-*/; do ln -s "../$${d%/}" "chapters/$${d:3:-1}"; done

ifeq ($(filter clean deps,$(MAKECMDGOALS)),)
-include $(SRC)/files.mk
endif

CHAP_SRCS := $(filter-out $(MAIN_SRCS),$(APP_SRCS))
INCS  := $(HTML:%=$(SRC)/%.inc)
FUZZ  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
TESTS := $(patsubst tests/%.c,%,$(filter-out tests/support.c,$(wildcard tests/*.c)))
progname = $(subst /,-,$(dir $(1)))$(notdir $(basename $(1)))
PROGS := $(foreach m,$(MAIN_SRCS),$(call progname,$(m)))

# $(1) = build root (build or build/asan), $(2) = extra flags
define variant
$(1)/obj/%.o: $(SRC)/%.c | $(INCS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $(2) -I$(SRC)/lib -MMD -MP -c $$< -o $$@
$(1)/obj/tests/%.o: tests/%.c | $(INCS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $(2) -I$(SRC)/lib -Itests -MMD -MP -c $$< -o $$@
$(1)/lib/libbook.a: $(LIB_SRCS:%.c=$(1)/obj/%.o)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
$(1)/lib/libchapters.a: $(CHAP_SRCS:%.c=$(1)/obj/%.o)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
$(TESTS:%=$(1)/tests/%): $(1)/tests/%: $(1)/obj/tests/%.o $(1)/obj/tests/support.o $(1)/lib/libchapters.a $(1)/lib/libbook.a
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$< $(1)/obj/tests/support.o $(1)/lib/libchapters.a $(1)/lib/libbook.a $$(TESTLIBS) $$(LDLIBS)
-include $$(shell find $(1)/obj -name '*.d' 2>/dev/null)
endef

# $(1) = build root, $(2) = extra flags, $(3) = the source with main()
define program
$(1)/bin/$(call progname,$(3)): $(1)/obj/$(3:.c=.o) $(1)/lib/libchapters.a $(1)/lib/libbook.a
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(LDLIBS)
endef

$(eval $(call variant,build,))
$(eval $(call variant,build/asan,$(ASAN)))
$(foreach m,$(MAIN_SRCS),$(eval $(call program,build,,$(m))))
$(foreach m,$(MAIN_SRCS),$(eval $(call program,build/asan,$(ASAN),$(m))))

# An HTML template becomes a C string literal, one "…\n" per line.
$(SRC)/%.html.inc: $(SRC)/%.html
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< >$@

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
# book/figures/); each becomes SVG for the HTML and PDF for the PDF.
FIGS := $(patsubst book/figures/%.dot,%,$(wildcard book/figures/*.dot)) \
        $(patsubst book/figures/%.gp,%,$(wildcard book/figures/*.gp))
DATA := $(wildcard book/data/*)
book: build/book.html build/book.pdf

build/figures/%.svg: book/figures/%.dot | build/.deps
	@mkdir -p $(@D)
	dot -Tsvg $< -o $@
build/figures/%.pdf: book/figures/%.dot | build/.deps
	@mkdir -p $(@D)
	dot -Tpdf $< -o $@
build/figures/%.svg: book/figures/%.gp $(DATA) | build/.deps
	@mkdir -p $(@D)
	cd book/figures && gnuplot -e "set terminal svg size 760,430 dynamic font 'DejaVu Sans,12'; \
	  set output '$(CURDIR)/$@'" $*.gp
build/figures/%.pdf: book/figures/%.gp $(DATA) | build/.deps
	@mkdir -p $(@D)
	cd book/figures && gnuplot -e "set terminal pdfcairo size 15cm,8.5cm font 'DejaVu Sans,9'; \
	  set output '$(CURDIR)/$@'" $*.gp

build/book.md: $(CHAPTERS) book/tools/nw2md.pl $(DATA) | build/.deps
	/usr/lib/noweb/markup $(CHAPTERS) | perl book/tools/nw2md.pl >$@

PANDOC := pandoc -f markdown+smart --metadata-file=book/metadata.yaml --number-sections \
          --toc --toc-depth=2 --resource-path=build:book

build/book.html: build/book.md book/book.css book/metadata.yaml book/tools/linkify.pl $(FIGS:%=build/figures/%.svg)
	$(PANDOC) -t html5 -s --self-contained --css=book/book.css \
	  --default-image-extension=svg --highlight-style=tango $< -o build/book.raw.html
	perl book/tools/linkify.pl html <build/book.raw.html >$@

build/book.pdf: build/book.md book/header.tex book/metadata.yaml book/tools/linkify.pl $(FIGS:%=build/figures/%.pdf)
	@mkdir -p build/latex
	$(PANDOC) -t latex -s --top-level-division=chapter --include-in-header=book/header.tex \
	  --default-image-extension=pdf --highlight-style=tango $< -o build/latex/book.raw.tex
	perl book/tools/linkify.pl latex <build/latex/book.raw.tex >build/latex/book.tex
	cd build/latex && for pass in 1 2 3; do \
	  TEXINPUTS=.:../../book:../: xelatex -interaction=nonstopmode -halt-on-error book.tex >/dev/null \
	    || { tail -40 book.log; exit 1; }; \
	done
	@if grep -n 'Missing character' build/latex/book.log; then \
	  echo "book.pdf: в шрифте нет глифов для символов выше — XeLaTeX выбросил бы их молча"; exit 1; fi
	cp build/latex/book.pdf $@

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
	$(CC) $(CFLAGS) $(ASAN) -I$(SRC)/lib -I$(SRC)/chapters -MMD -MP -c $< -o $@
build/asan/fuzz/replay_%: build/asan/fuzz/fuzz_%.o build/asan/fuzz/replay.o build/asan/lib/libchapters.a build/asan/lib/libbook.a
	$(CC) $(CFLAGS) $(ASAN) -o $@ $^ $(LDLIBS)

FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined -I$(SRC)/lib -I$(SRC)/chapters
build/fuzz/obj/%.o: $(SRC)/%.c | $(INCS) build/.deps-fuzz
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -MMD -MP -c $< -o $@
build/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c | $(INCS) build/.deps-fuzz
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build/fuzz/fuzz_%: build/fuzz/fuzz_%.o $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRCS) $(CHAP_SRCS))
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)
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

test: check tests-built book
	tests/run.sh

valgrind: tests-built
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
