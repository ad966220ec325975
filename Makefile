# pg_segments: PGXS build of the extension. `make`, `make install`, `make installcheck`;
# `make test` runs every test (test/run), `make demo` the end-to-end demo, `make bench` the benchmark.
EXTENSION = pg_segments
EXTVERSION = 0.2
MODULE_big = pg_segments

SRCS = $(sort $(wildcard src/*.cpp src/core/*.cpp src/core/*/*.cpp src/pg/*.cpp src/worker/*.cpp))
OBJS = $(SRCS:.cpp=.o)

# The install script of this version, and the upgrade script from the previous release: its
# replaceable files marked "first" in sql/order.txt (what the run-once part uses: the roles), its
# hand-written run-once part (sql/updates/<from>--<to>/*.sql, one file per issue, in name order),
# then every replaceable ("each") file of sql/order.txt, re-run with CREATE OR REPLACE.
# test/harness/upgrade.sh proves that an upgraded database equals a fresh install.
UPGRADE_FROM = 0.1
UPGRADE_SCRIPT = $(EXTENSION)--$(UPGRADE_FROM)--$(EXTVERSION).sql
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADE_SCRIPT)
# Released install scripts are frozen files (never rebuilt).
DATA = $(EXTENSION)--0.1.sql
# The install script's sources, in the order sql/order.txt gives (see the comments there).
SQL_PARTS = $(addprefix sql/,$(shell awk '$$1 == "once" || $$1 == "each" || $$1 == "first" {print $$2}' sql/order.txt))
FIRST_PARTS = $(addprefix sql/,$(shell awk '$$1 == "first" {print $$2}' sql/order.txt))
EACH_PARTS = $(addprefix sql/,$(shell awk '$$1 == "each" {print $$2}' sql/order.txt))
UPGRADE_PARTS = $(sort $(wildcard sql/updates/$(UPGRADE_FROM)--$(EXTVERSION)/*.sql))

# The regression tests, in the order of test/regress/schedule.
REGRESS = $(shell awk '$$1 == "test:" {print $$2}' test/regress/schedule)
REGRESS_OPTS = --inputdir=test/regress --load-extension=plpgsql

PG_CONFIG ?= pg_config
PG_CXXFLAGS = -std=c++17 -Wno-register -Wno-missing-field-initializers
# The library knows its version: the worker serves only SQL of the same version. fmt is used
# header-only: its code is compiled into pg_segments.so, where exports.map keeps fmt:: symbols
# local (no runtime libfmt for another extension's copy to interpose on).
PG_CPPFLAGS = -DPGS_EXTVERSION='"$(EXTVERSION)"' -DFMT_HEADER_ONLY
SHLIB_LINK = -lstdc++ -Wl,--version-script=$(CURDIR)/src/pg/exports.map
EXTRA_CLEAN = $(DATA_built)

# No LLVM bitcode: the JIT does not need our C++, and it would require clang.
override with_llvm = no
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) sql/order.txt
	cat $(SQL_PARTS) > $@

$(UPGRADE_SCRIPT): sql/updates/header.sql $(FIRST_PARTS) $(UPGRADE_PARTS) $(EACH_PARTS) sql/order.txt
	cat sql/updates/header.sql $(FIRST_PARTS) $(UPGRADE_PARTS) $(EACH_PARTS) > $@

%.o: %.cpp
	$(CXX) $(CXXFLAGS) $(CPPFLAGS) -fPIC -c -o $@ $<

$(OBJS): $(wildcard src/*/*.h src/core/*/*.h)

# The core must not see PostgreSQL headers (docs/cpp-boundary.md).
check-core-isolation:
	@! grep -rnE '#include\s*[<"](postgres|fmgr|utils/|catalog/|executor/|access/|nodes/)' src/core \
	  || { echo "src/core must not include PostgreSQL headers"; exit 1; }
# Each install-script file uses only what the files listed before it in sql/order.txt define.
check-order:
	@python3 scripts/check-order sql/order.txt
# Every API object has an example in docs/ (its COMMENT ON is checked by test api_descriptions).
check-docs:
	@python3 scripts/check-docs sql/order.txt
all: check-core-isolation check-order check-docs

test:
	bash test/run
demo:
	bash demo/run
bench:
	bash bench/run

.PHONY: check-core-isolation check-order check-docs test demo bench
