# ngx_cwmp: build, run and test.  Everything a build or a test needs is
# installed from here (Debian packages, Debian's nginx source).
#
#   make run     build nginx with the module, start Redis and nginx,
#                serve CWMP on http://127.0.0.1:7547/
#   make stop    stop what "make run" started
#   make test    build, then run t/ against a Redis of its own
#
# NGINX_SRC=<dir> builds against an unpacked nginx tree instead of
# Debian's source package.

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
OBJ         := $(BUILD)/obj
NGINX       := $(OBJ)/nginx
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)

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

MODULE_SRCS := $(wildcard $(TOP)/ngx_cwmp_module/*.[ch])

DEB_PACKAGES := build-essential pkg-config dpkg-dev ca-certificates \
	libhiredis-dev libxml2-dev libpcre2-dev zlib1g-dev libssl-dev \
	redis-server redis-tools perl

.PHONY: all build deps run stop test clean dynamic

all: build

build: $(NGINX)

deps: $(BUILD)/.deps

$(BUILD)/.deps: .ci/deps
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

run: build
	.ci/acs start $(NGINX)

stop:
	.ci/acs stop $(NGINX)

test: build
	.ci/test $(NGINX)

# the module as a .so against Debian's nginx-dev (the packaged nginx)
dynamic: | $(BUILD)/.deps
	.ci/dynamic $(BUILD)/dynamic

clean:
	-.ci/acs stop $(NGINX) 2>/dev/null
	rm -rf $(BUILD) t/servroot
