# pg_segments: PGXS build of the extension. `make`, `make install`, `make installcheck`;
# `make test` runs every test (test/run), `make demo` the end-to-end demo, `make bench` the benchmark.
EXTENSION = pg_segments
EXTVERSION = 0.1
MODULE_big = pg_segments

SRCS = $(sort $(wildcard src/core/*.cpp src/core/*/*.cpp src/pg/*.cpp src/worker/*.cpp))
OBJS = $(SRCS:.cpp=.o)

DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*--*.sql))
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))

# Every sql/NAME.sql is a regression test; each one creates what it needs.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

PG_CONFIG ?= pg_config
PG_CXXFLAGS = -std=c++17 -Wno-register -Wno-missing-field-initializers
SHLIB_LINK = -lstdc++ -Wl,--version-script=$(CURDIR)/src/pg/exports.map
EXTRA_CLEAN = $(DATA_built)

# No LLVM bitcode: the JIT does not need our C++, and it would require clang.
override with_llvm = no
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(SQL_PARTS)
	cat $^ > $@

%.o: %.cpp
	$(CXX) $(CXXFLAGS) $(CPPFLAGS) -fPIC -c -o $@ $<

$(OBJS): $(wildcard src/*/*.h src/core/*/*.h)

# The core must not see PostgreSQL headers (docs/cpp-boundary.md).
check-core-isolation:
	@! grep -rnE '#include\s*[<"](postgres|fmgr|utils/|catalog/|executor/|access/|nodes/)' src/core \
	  || { echo "src/core must not include PostgreSQL headers"; exit 1; }
all: check-core-isolation

test:
	bash test/run
demo:
	bash demo/run
bench:
	bash bench/run

.PHONY: check-core-isolation test demo bench
