# ngx_cwmp: build, run and test.  Everything a build or a test needs is
# installed from here (Debian packages, Debian's nginx source).
#
#   make run     build nginx with the module, start Redis and nginx,
#                serve CWMP on http://127.0.0.1:7547/
#   make stop    stop what "make run" started
#   make test    build, then run t/ against a Redis of its own: with the
#                module compiled in, then loaded as a dynamic module; the
#                cluster suites, the fault runs, the fuzz smoke, deb-check
#                and image-check
#   make dynamic the module as a .so for Debian's packaged nginx (nginx-dev)
#   make deb     Debian packages of the modules (build/deb/), lintian-clean
#   make deb-check  the packages installed into this machine's Debian nginx
#                with apt, a CWMP session run through it, removed again
#   make image-check  docker/Dockerfile built and run without an engine
#   make bench   the CPE-fleet benchmark, ratios against a canned ceiling,
#                then single Redis against a Redis Cluster (20,000 devices)
#   make bench-tr143  the TR-143 endpoints' MB/s against nginx serving a
#                static file (and discarding a body), same run
#   make bench-rejections  what each hostile request costs, ratios to a
#                canned 204
#   make bench-storm  a boot storm: 1,000,000 new devices (BENCH_STORM_DEVICES),
#                the time to register them against canned nginx's, same run
#   make bench-instructions  instructions per session (callgrind), nginx
#                and Redis apart: the figure that repeats
#   make bench-cluster  single Redis against a 3-master Redis Cluster, same
#                run: sessions/s, commands and Redis CPU per session per
#                node, memory per node for BENCH_CLUSTER_DEVICES (300,000)
#   make test-asan  the suite against nginx and the module built with
#                clang's AddressSanitizer and UndefinedBehaviorSanitizer
#   make test-valgrind  the session suites with nginx under valgrind
#   make fuzz    the libFuzzer harnesses in t/fuzz/, FUZZ_SECONDS each (60);
#                "make test" ends with each for FUZZ_SMOKE_SECONDS (5)
#   make chaos   the fault runs (t/chaos/run): a CPE fleet under one fault
#                at a time, CHAOS_SECONDS (60) each; "make test" runs the
#                short form (5 s each)
#   make test-cluster  the session, task, policy, connection-request and
#                auth suites against a Redis Cluster (3 masters, 3
#                replicas), then its fault runs (a slot migrated, masters
#                failed over) in the long form; "make test" runs the
#                suites and the short form
#   make test-sentinel  the fault runs against a master, a replica and 3
#                Sentinels (the master failed over); short form in "make test"
#
# NGINX_SRC=<dir> builds against an unpacked nginx tree instead of
# Debian's source package.

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
OBJ         := $(BUILD)/obj
NGINX       := $(OBJ)/nginx
OBJ_DYN     := $(BUILD)/obj-dyn
NGINX_DYN   := $(OBJ_DYN)/nginx
MODULE_SO   := $(OBJ_DYN)/ngx_http_cwmp_module.so
STUN_SO     := $(OBJ_DYN)/ngx_stream_cwmp_stun_module.so
OBJ_ASAN    := $(BUILD)/obj-asan
NGINX_ASAN  := $(OBJ_ASAN)/nginx
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SMOKE_SECONDS ?= 5

ifeq ($(NGINX_SRC),)
NGINX_TREE  := $(BUILD)/nginx-debian/tree
else
NGINX_TREE  := $(abspath $(NGINX_SRC))
endif

NGINX_CONFIGURE_OPTS := \
	--builddir=$(OBJ) \
	--prefix=$(BUILD)/run \
	--with-debug \
	--with-http_ssl_module \
	--with-stream \
	--add-module=$(TOP) \
	--with-cc-opt='-O2 -g -Werror'

# the same nginx without the module, and the module as a .so for it
NGINX_DYN_CONFIGURE_OPTS := \
	--builddir=$(OBJ_DYN) \
	--prefix=$(BUILD)/run \
	--with-debug \
	--with-compat \
	--with-http_ssl_module \
	--with-stream \
	--add-dynamic-module=$(TOP) \
	--with-cc-opt='-O2 -g -Werror'

# the same nginx and module under clang's sanitizers
NGINX_ASAN_CONFIGURE_OPTS := \
	--builddir=$(OBJ_ASAN) \
	--prefix=$(BUILD)/run \
	--with-debug \
	--with-http_ssl_module \
	--with-stream \
	--add-module=$(TOP) \
	--with-cc=clang \
	--with-cc-opt='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer' \
	--with-ld-opt='-fsanitize=address,undefined'

MODULE_SRCS := $(wildcard $(TOP)/ngx_cwmp_module/*.[ch])

DEB_PACKAGES := build-essential pkg-config dpkg-dev ca-certificates \
	libhiredis-dev libxml2-dev libjansson-dev libpcre2-dev zlib1g-dev \
	libssl-dev openssl \
	redis-server redis-tools redis-sentinel perl libxml2-utils prometheus \
	prosody libio-socket-ssl-perl

.PHONY: all build build-dynamic deps run stop test clean dynamic bench bench-fleet \
	test-cluster test-sentinel \
	bench-rejections bench-instructions bench-cluster bench-tr143 bench-storm deb deb-check image-check \
	test-asan test-valgrind fuzz fuzz-smoke chaos

all: build

build: $(NGINX)

deps: $(BUILD)/.deps

$(BUILD)/.deps: .ci/deps Makefile
	@mkdir -p $(BUILD)
	.ci/deps $(DEB_PACKAGES)
	@touch $@

$(BUILD)/nginx-debian/tree/configure: | $(BUILD)/.deps
	.ci/nginx-source $(BUILD)/nginx-debian

$(OBJ)/Makefile: $(TOP)/config $(NGINX_TREE)/configure | $(BUILD)/.deps
	cd $(NGINX_TREE) && ./configure $(NGINX_CONFIGURE_OPTS)

$(NGINX): $(OBJ)/Makefile $(MODULE_SRCS)
	cd $(NGINX_TREE) && $(MAKE) -f $(OBJ)/Makefile -j$(JOBS)
	@touch $@

build-dynamic: $(MODULE_SO)

$(OBJ_DYN)/Makefile: $(TOP)/config $(NGINX_TREE)/configure | $(BUILD)/.deps
	cd $(NGINX_TREE) && ./configure $(NGINX_DYN_CONFIGURE_OPTS)

$(MODULE_SO): $(OBJ_DYN)/Makefile $(MODULE_SRCS)
	cd $(NGINX_TREE) && $(MAKE) -f $(OBJ_DYN)/Makefile -j$(JOBS)
	@touch $@

run: build
	REDIS=$(REDIS) .ci/acs start $(NGINX)

stop:
	.ci/acs stop $(NGINX)

# the suite twice: the module compiled in, then loaded with load_module
test: build build-dynamic
	.ci/test $(NGINX)
	TEST_NGINX_LOAD_MODULES="$(MODULE_SO) $(STUN_SO)" .ci/test $(NGINX_DYN)
	t/chaos/run --short $(NGINX)
	TEST_REDIS=cluster .ci/test $(NGINX) $(CLUSTER_T)
	t/chaos/run --short --redis cluster $(NGINX)
	t/chaos/run --short --redis sentinel $(NGINX)
	$(MAKE) fuzz-smoke
	$(MAKE) deb-check
	$(MAKE) image-check

# the suites that run against a Redis Cluster too
CLUSTER_T := t/010-inform.t t/020-hostile.t t/030-store.t t/040-tasks.t \
	t/041-exact.t t/042-diagnostics.t t/043-files.t t/044-uploads.t \
	t/045-two-hosts.t t/046-shed.t \
	t/047-fleet.t t/048-bulk.t t/060-policies.t t/065-policy-reload.t \
	t/070-connreq.t t/075-stun.t t/076-xmpp.t t/080-auth.t

test-cluster: build
	TEST_REDIS=cluster .ci/test $(NGINX) $(CLUSTER_T)
	t/chaos/run $(if $(CHAOS_SECONDS),--seconds $(CHAOS_SECONDS)) \
	    --redis cluster $(NGINX)

test-sentinel: build
	t/chaos/run $(if $(CHAOS_SECONDS),--seconds $(CHAOS_SECONDS)) \
	    --redis sentinel $(NGINX)

# the fault runs, long form: t/chaos/run's header says what they check
chaos: build
	t/chaos/run $(if $(CHAOS_SECONDS),--seconds $(CHAOS_SECONDS)) $(NGINX)

# the suite under AddressSanitizer and UBSan (clang, Debian's packages)
$(BUILD)/.deps-asan: | $(BUILD)/.deps
	.ci/deps clang libclang-rt-14-dev
	@touch $@

$(OBJ_ASAN)/Makefile: $(TOP)/config $(NGINX_TREE)/configure \
		| $(BUILD)/.deps-asan
	cd $(NGINX_TREE) && ./configure $(NGINX_ASAN_CONFIGURE_OPTS)

$(NGINX_ASAN): $(OBJ_ASAN)/Makefile $(MODULE_SRCS)
	cd $(NGINX_TREE) && $(MAKE) -f $(OBJ_ASAN)/Makefile -j$(JOBS)
	@touch $@

test-asan: $(NGINX_ASAN)
	.ci/test-asan $(NGINX_ASAN)
	TEST_REDIS=cluster .ci/test-asan $(NGINX_ASAN) $(CLUSTER_T)

# the session suites with nginx under valgrind (memcheck, definite leaks)
VALGRIND_OPTS := --tool=memcheck --leak-check=full --show-possibly-lost=no \
	--errors-for-leak-kinds=definite --num-callers=50 \
	--suppressions=t/valgrind.suppress
VALGRIND_TESTS := t/010-inform.t t/030-store.t t/040-tasks.t t/060-policies.t \
	t/080-auth.t

test-valgrind: $(NGINX)
	.ci/deps valgrind
	TEST_NGINX_USE_VALGRIND="$(VALGRIND_OPTS)" TEST_NGINX_TIMEOUT=30 \
		TEST_NGINX_REDIS_OPTS="connect_timeout=10s timeout=10s" \
		.ci/test $(NGINX) $(VALGRIND_TESTS)

# libFuzzer harnesses (t/fuzz/*.c, seeds in t/fuzz/corpus/) on the same objects
fuzz: $(NGINX_ASAN)
	NGINX_TREE=$(NGINX_TREE) .ci/fuzz $(OBJ_ASAN) $(FUZZ_SECONDS)

# each harness for a few seconds, the code under test sanitized, the rest
# of nginx from the plain build (part of "make test")
fuzz-smoke: $(NGINX) | $(BUILD)/.deps-asan
	FUZZ_OUT=$(BUILD)/fuzz-smoke NGINX_TREE=$(NGINX_TREE) \
		.ci/fuzz $(OBJ) $(FUZZ_SMOKE_SECONDS)

# the CPE-fleet benchmark (bench/README.md)
bench: build
	bench/run $(NGINX) $(BENCH_SECONDS)
	BENCH_CLUSTER_DEVICES=$${BENCH_CLUSTER_DEVICES:-20000} \
	    bench/cluster $(NGINX) $(BENCH_SECONDS)
	bench/fleet $(NGINX) $(BENCH_SECONDS)
	bench/tr143 $(NGINX)

# the TR-143 test endpoints against nginx's own serving (bench/tr143)
bench-tr143: build
	bench/tr143 $(NGINX)

# what the fleet's API costs: index queries, upkeep, a bulk job (bench/fleet)
bench-fleet: build
	bench/fleet $(NGINX) $(BENCH_SECONDS)

# single Redis against a 3-master cluster, same run (bench/cluster)
bench-cluster: build
	bench/cluster $(NGINX) $(BENCH_SECONDS)

# a boot storm of BENCH_STORM_DEVICES (1,000,000) new devices (bench/storm)
bench-storm: build
	bench/storm $(NGINX) $(BENCH_STORM_DEVICES)

# instructions per session, callgrind (bench/instructions)
bench-instructions: build
	bench/instructions $(NGINX) $(BENCH_SESSIONS)

# what a rejected request costs (bench/rejections)
bench-rejections: build
	bench/rejections $(NGINX) $(BENCH_SECONDS)

# the module as a .so against Debian's nginx-dev (the packaged nginx)
dynamic: | $(BUILD)/.deps
	.ci/dynamic $(BUILD)/dynamic

# Debian packages for Debian 12's nginx (debian/), lintian-checked; then
# installed into the machine's nginx, run, and removed again
deb:
	.ci/deb $(BUILD)/deb

deb-check: deb
	.ci/deb-check $(BUILD)/deb

# docker/Dockerfile built and run without a container engine: debootstrap'd
# bookworm roots, its steps in a chroot, its HEALTHCHECK and a session
image-check: | $(BUILD)/.deps
	.ci/image-check $(BUILD)/image

clean:
	-.ci/acs stop $(NGINX) 2>/dev/null
	rm -rf $(BUILD) t/servroot
