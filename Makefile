# The two entry points of the README. Each installs what it needs (Debian
# packages, through an idempotent script), builds, and runs.
.PHONY: run test build deps clean install abi deb
PREFIX ?= /usr/local

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j$$(nproc)

# only what the demo runs, quietly (the build log goes to build/make-run.log)
run: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@echo "building hollow-cli and the demo in build/ (log: build/make-run.log)"
	@cmake --build build -j$$(nproc) --target hollow-cli producer_consumer \
	    >build/make-run.log 2>&1 || { tail -40 build/make-run.log; exit 1; }
	@bash scripts/run-demo.sh build

test: deps
	bash scripts/test.sh

# headers, libhollow.so/.a, hollow.pc, the CMake package, hollow-cli,
# hollow-bench, man pages, completion and docs under PREFIX (DESTDIR too)
install: build
	cmake --install build --prefix "$(PREFIX)"

# rewrite abi/libhollow.symbols from build/libhollow.so (docs/packaging.md)
abi:
	bash scripts/update-abi.sh build

# the Debian packages (scripts/deb.sh; build-deb/)
deb:
	bash scripts/deb.sh

clean:
	rm -rf build build-asan build-tsan build-deb
