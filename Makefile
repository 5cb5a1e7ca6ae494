# accord — one GNU Makefile.  Objects live in build/, one static library per
# floor of the house (util, policies, connectors, state) so that the link
# line itself enforces the layering: a unit test of a lower floor cannot
# reach an upper one.
PKGS     := libgit2 yaml-0.1 sqlite3 libcurl jansson libpq libcrypto
DEBS     := build-essential pkg-config git libgit2-dev libyaml-dev libsqlite3-dev \
            libcurl4-openssl-dev libjansson-dev libpq-dev libssl-dev \
            postgresql sqlite3 python3 python3-cryptography python3-aiosmtpd \
            openssl time chromium chromium-driver
PREFIX   ?= /usr/local
CC       ?= cc
B        ?= build
SAN      ?=
WERROR   ?=
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
            -Wformat=2 -Wno-format-nonliteral $(WERROR)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) $(WARN) $(SAN) $(CFLAGS) -MMD -MP
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm

UTIL_SRC  := $(wildcard reconciler/util/*.c)
POL_SRC   := $(wildcard policies/*.c)
CONN_SRC  := $(wildcard connectors/*.c)
STATE_SRC := $(wildcard state/*.c)
RECO_SRC  := $(filter-out reconciler/main.c,$(wildcard reconciler/*.c))
obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIB_UTIL  := $(B)/libutil.a
LIB_POL   := $(B)/libpolicies.a
LIB_CONN  := $(B)/libconnectors.a
LIB_STATE := $(B)/libstate.a
LIB_RECO  := $(B)/libreconciler.a

UT_UTIL   := $(patsubst tests/unit/%.c,$(B)/t/%,$(wildcard tests/unit/util/*.c))
UT_POL    := $(patsubst tests/unit/%.c,$(B)/t/%,$(wildcard tests/unit/policies/*.c))
UT_CONN   := $(patsubst tests/unit/%.c,$(B)/t/%,$(wildcard tests/unit/connectors/*.c))
UT_STATE  := $(patsubst tests/unit/%.c,$(B)/t/%,$(wildcard tests/unit/state/*.c))
UT_RECO   := $(patsubst tests/unit/%.c,$(B)/t/%,$(wildcard tests/unit/reconciler/*.c))
UNIT      := $(UT_UTIL) $(UT_POL) $(UT_CONN) $(UT_STATE) $(UT_RECO)
FUZZ      := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/*.c))

# accord is the light front (answers in-process, SQLite + jansson +
# libcrypto only); accord-core runs everything else (reconciler/main.c).
LIGHT_OBJ := $(B)/light/main.o $(B)/light/cmd_answers.o \
             $(call obj,reconciler/cmd_report.c reconciler/cmd_audit.c reconciler/emit.c)

.SECONDARY:
.PHONY: all deps test unit e2e check demo bench install clean headers
all: $(B)/accord $(B)/accord-core

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_UTIL):  $(call obj,$(UTIL_SRC));  @rm -f $@; ar rcs $@ $^
$(LIB_POL):   $(call obj,$(POL_SRC));   @rm -f $@; ar rcs $@ $^
$(LIB_CONN):  $(call obj,$(CONN_SRC));  @rm -f $@; ar rcs $@ $^
$(LIB_STATE): $(call obj,$(STATE_SRC)); @rm -f $@; ar rcs $@ $^
$(LIB_RECO):  $(call obj,$(RECO_SRC));  @rm -f $@; ar rcs $@ $^

$(B)/light/%.o: reconciler/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DACCORD_LIGHT -c -o $@ $<

# --as-needed: only the libraries the answers use are loaded at start.
$(B)/accord: $(LIGHT_OBJ) $(LIB_STATE) $(LIB_UTIL) | $(B)/accord-core
	$(CC) $(SAN) -o $@ $(LIGHT_OBJ) $(LIB_STATE) $(LIB_UTIL) -Wl,--as-needed $(LDLIBS_ALL)

$(B)/accord-core: $(call obj,reconciler/main.c) $(LIB_RECO) $(LIB_POL) $(LIB_CONN) $(LIB_STATE) $(LIB_UTIL)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# Unit tests: one program per module, linked only against its own floor.
$(B)/t/%: $(B)/obj/tests/unit/%.o $(B)/obj/tests/lib/tap.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(TLIBS) $(LDLIBS_ALL)
$(UT_UTIL):  TLIBS = $(LIB_UTIL)
$(UT_POL):   TLIBS = $(LIB_POL) $(LIB_UTIL)
$(UT_CONN):  TLIBS = $(LIB_CONN) $(LIB_UTIL)
$(UT_STATE): TLIBS = $(LIB_STATE) $(LIB_UTIL)
$(UT_RECO):  TLIBS = $(LIB_RECO) $(LIB_POL) $(LIB_CONN) $(LIB_STATE) $(LIB_UTIL)
$(UT_UTIL):  $(LIB_UTIL)
$(UT_POL):   $(LIB_POL) $(LIB_UTIL)
$(UT_CONN):  $(LIB_CONN) $(LIB_UTIL)
$(UT_STATE): $(LIB_STATE) $(LIB_UTIL)
$(UT_RECO):  $(LIB_RECO) $(LIB_POL) $(LIB_CONN) $(LIB_STATE) $(LIB_UTIL)

# Fuzz harnesses build as ordinary programs that replay their corpus.
$(B)/fuzz/%: $(B)/obj/tests/fuzz/%.o $(LIB_POL) $(LIB_UTIL)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS_ALL)

# Every header must compile on its own.
headers:
	@for h in include/*.h; do echo "#include \"$$(basename $$h)\"" | \
	  $(CC) $(ALL_CFLAGS) -MF /dev/null -x c -fsyntax-only - || exit 1; done

deps:
	@sh tests/lib/deps.sh $(DEBS)

unit: $(UNIT) $(FUZZ)
	@sh tests/lib/run-unit.sh $(B) $(UNIT) -- $(FUZZ)

e2e: $(B)/accord $(B)/accord-core
	@sh tests/lib/run-e2e.sh $(B)

test: deps
	@$(MAKE) --no-print-directory all headers
	@$(MAKE) --no-print-directory unit e2e

check: deps
	@$(MAKE) --no-print-directory B=build/san SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	  CFLAGS="-O1 -g" WERROR=-Werror all headers unit e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh $(B)/accord

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/bench.sh $(B)/accord

install: $(B)/accord $(B)/accord-core
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/accord \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(B)/accord $(DESTDIR)$(PREFIX)/bin/accord
	install -m 755 $(B)/accord-core $(DESTDIR)$(PREFIX)/libexec/accord/accord-core
	install -m 644 reconciler/accord.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 policies/accord-request.5 policies/accord-policy.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
