# The two entry points of the README. Each installs what it needs (Debian
# packages, through an idempotent script), builds, and runs.
.PHONY: run test build deps clean

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j$$(nproc)

run: build
	bash scripts/run-demo.sh build

test: deps
	bash scripts/test.sh

clean:
	rm -rf build build-asan build-tsan
