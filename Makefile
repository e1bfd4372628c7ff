# SPDX-License-Identifier: GPL-2.0
#
# ptp_vmclock: out-of-tree VMClock guest driver.
#
#   make                  build ptp_vmclock.ko for the running kernel (or KDIR=...)
#   make install          install it (modules_install) and the udev rules
#   make dkms             register the sources with DKMS and build for each kernel
#   make setup            install the test rig's packages, fetch guest kernels
#   make demo             set up, build, boot a demo guest and show the driver working
#   make check            set up and run the whole test suite
#   make unit             host unit tests of the core only
#   make bench            boot guests and print the performance table
#   make bench-lib        libvmclock now() vs clock_gettime, natively
#   make userspace        libvmclock (shared, static) and the vmclock command
#   make install-userspace   install them, <vmclock.h>, vmclock.pc, man pages
#                         (DESTDIR, PREFIX=/usr/local, LIBDIR=PREFIX/lib/<multiarch>)
KVER	?= $(shell uname -r)
KDIR	?= /lib/modules/$(KVER)/build
VERSION	:= $(shell sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}/\1/p' dkms.conf 2>/dev/null)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	install -D -m 0644 udev/60-vmclock.rules /etc/udev/rules.d/60-vmclock.rules
	depmod -a $(KVER)

dkms:
	rm -rf /usr/src/vmclock-$(VERSION)
	mkdir -p /usr/src/vmclock-$(VERSION)
	cp -r Kbuild Makefile dkms.conf drivers include /usr/src/vmclock-$(VERSION)/
	dkms add -m vmclock -v $(VERSION)
	dkms build -m vmclock -v $(VERSION)

setup:
	bash tests/vm/setup.sh

demo: setup
	python3 tests/vm/rig.py --show demo

check: setup
	bash tests/run-all.sh

unit:
	$(MAKE) -C tests/unit check

bench: setup
	bench/run.sh

bench-lib:
	bench/lib-bench.sh

PREFIX	?= /usr/local
USERSPACE_VARS = PREFIX=$(PREFIX) $(if $(LIBDIR),LIBDIR=$(LIBDIR)) $(if $(DESTDIR),DESTDIR=$(DESTDIR))

userspace:
	$(MAKE) -C tools/lib/vmclock
	$(MAKE) -C tools/vmclock

install-userspace: userspace
	$(MAKE) -C tools/lib/vmclock install $(USERSPACE_VARS)
	$(MAKE) -C tools/vmclock install $(USERSPACE_VARS)

# Not kbuild's "clean": with M= at the top it deletes every *.ko below,
# any kernel modules below the checkout included.
clean:
	rm -rf build
	find drivers -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' | xargs rm -f
	rm -f Module.symvers modules.order .*.cmd
	$(MAKE) -C tests/unit clean
	$(MAKE) -C tools/vmclock-host clean
	$(MAKE) -C tools/lib/vmclock clean
	$(MAKE) -C tools/vmclock clean
	$(MAKE) -C tests/vm/guest clean

.PHONY: all modules install dkms setup demo check unit bench clean userspace install-userspace bench-lib
