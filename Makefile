# Plex Warden — `make run` and `make test` are all a new machine needs.
# Both install the missing system packages first (Debian/Ubuntu, apt-get,
# with sudo when not root).

BINARY   := plexwarden
HEADLESS := $(BINARY)-headless
PREFIX   ?= /usr/local
DESTDIR  ?=
APP_ID   := io.github.plexwarden.plexwarden
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 30s
GO       ?= go

# Build: cgo toolchain and the GL/X11/Wayland headers Fyne 2.8 links against.
BUILD_PKGS := gcc libc6-dev pkg-config ca-certificates git libgl1-mesa-dev libx11-dev \
  libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev \
  libwayland-dev libxkbcommon-dev
# Run and test: a virtual display, a session bus, a real keyring, screenshot
# tools and ffmpeg for the local-transcoder tests. Not dbus-x11: it would
# autostart buses that outlive the tests.
TEST_PKGS := xvfb xauth dbus gnome-keyring imagemagick xdotool ffmpeg procps desktop-file-utils

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-build build build-headless release run demo test test-go smoke lint bench fuzz soak measure package install install-files install-headless uninstall clean

all: build

# deps-build / deps install only what is missing.
deps-build:
	@./.ci/ensure-packages $(BUILD_PKGS)

deps: deps-build
	@./.ci/ensure-packages $(TEST_PKGS)

build: deps-build
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BINARY) .

# The command line without the desktop app (main_headless.go), for servers
# with no desktop: no cgo, so no Fyne, GL or X11 libraries and no system
# packages to install; `watch` needs about half the memory of the full
# binary's (docs/BENCHMARKS.md).
build-headless:
	CGO_ENABLED=0 $(GO) build -tags headless -ldflags "$(LDFLAGS)" -o $(HEADLESS) .

release: deps-build
	$(GO) build -tags no_metadata,migrated_fynedo -trimpath -ldflags "-s -w $(LDFLAGS)" -o $(BINARY) .

# With no server configured the app starts on the built-in demo server.
run: build
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "No display found (DISPLAY/WAYLAND_DISPLAY unset): starting under a virtual X server (xvfb-run)."; \
	  ./.ci/ensure-packages xvfb xauth; \
	  xvfb-run -a ./$(BINARY); \
	else ./$(BINARY); fi

demo: build
	./$(BINARY) demo

# Everything CI runs: formatting, vet, the race-enabled test suite under a
# private session bus with an unlocked gnome-keyring and a virtual display,
# then the real-window smoke test.
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	./.ci/with-session $(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) smoke

smoke: build build-headless
	PLEXWARDEN_SMOKE=$(CURDIR)/$(BINARY) PLEXWARDEN_HEADLESS=$(CURDIR)/$(HEADLESS) PLEXWARDEN_VERSION=$(VERSION) ./.ci/with-session $(GO) test -count=1 -run 'TestSmoke|TestHeadlessBuild' -v .

# The README's screenshots of the real app (Xvfb, xfce4-panel as tray host).
screenshots: build
	./.ci/screenshots ./$(BINARY) docs/screenshots

lint: deps-build
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

bench: deps
	./.ci/with-session $(GO) test -run '^$$' -bench . -benchmem -count=1 ./... | tee bench.out

# The fault-injection soak (app/soak) for SOAK (5m): two thirds in-process
# faults against the real chain, one third SIGKILLs of the real binary's
# `watch`. `make test` runs the same tests for 30s.
SOAK ?= 5m
soak: build
	PLEXWARDEN_SOAK=$(SOAK) PLEXWARDEN_BIN=$(CURDIR)/$(BINARY) $(GO) test -race -count=1 -timeout 30m -run 'TestSoak' -v ./app/soak/

# Memory, CPU and start-up of the real binaries (the full one and the
# headless one), measured from outside the process (.ci/measure; about 6
# minutes); prints a table.
measure: deps build build-headless
	PLEXWARDEN_BIN=$(CURDIR)/$(BINARY) PLEXWARDEN_HEADLESS_BIN=$(CURDIR)/$(HEADLESS) ./.ci/measure

# Every fuzz target of every package, FUZZTIME each. Go 1.26's fuzzer can
# fail at the end of -fuzztime with a bare "context deadline exceeded" and
# no failing input (go.dev/issue/75804, fixed in Go 1.27): that alone is
# reported, not counted as a failure; a written failing input always is.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    corpus=$$($(GO) list -f '{{.Dir}}' $$pkg)/testdata/fuzz/$$f; \
	    before=$$(ls "$$corpus" 2>/dev/null | wc -l); \
	    if $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >.fuzz.out 2>&1; then \
	      tail -n 3 .fuzz.out; \
	    else \
	      cat .fuzz.out; \
	      if [ "$$(ls "$$corpus" 2>/dev/null | wc -l)" = "$$before" ] && grep -q '^    context deadline exceeded$$' .fuzz.out; then \
	        echo "(the fuzzer's own deadline race, go.dev/issue/75804: no failing input, not a failure)"; \
	      else rm -f .fuzz.out; exit 1; fi; \
	    fi; \
	    rm -f .fuzz.out; \
	  done; \
	done

# Where `make install` puts things: binaries in $(PREFIX)/bin, the
# application icon at 48x48 and scalable in the hicolor theme (plus the
# 512x512 PNG), the .desktop entry, the systemd unit for
# `plexwarden-headless watch` (see README, "Run on a server") and the
# licence. `make package` archives exactly the same tree.
UNITDIR  ?= $(PREFIX)/lib/systemd/system
ICONDIR   = $(DESTDIR)$(PREFIX)/share/icons/hicolor
UNIT     := plexwarden-watch.service
BINARY_SRC   ?= $(BINARY)
HEADLESS_SRC ?= $(HEADLESS)
# A Windows build of the desktop app must be linked as a GUI-subsystem
# program, or a console window opens beside the tray:
#   GOOS=windows go build -ldflags "-H windowsgui $(LDFLAGS)" .
# (fyne package --os windows adds -H windowsgui itself).
WINDOWS_GUI_LDFLAGS := -H windowsgui $(LDFLAGS)

# A Linux archive of the release build, laid out as `make install` lays it
# out under /usr/local (unpack with: sudo tar -xJf FILE -C /).
package: release build-headless
	rm -rf dist/stage
	mkdir -p dist
	$(MAKE) --no-print-directory install-files DESTDIR=$(CURDIR)/dist/stage PREFIX=/usr/local
	tar -C dist/stage -cJf dist/plexwarden-linux-amd64.tar.xz --owner=0 --group=0 usr
	rm -rf dist/stage
	@echo "dist/plexwarden-linux-amd64.tar.xz"

install: build build-headless
	$(MAKE) --no-print-directory install-files

# A server without a desktop: the headless binary, the unit and the
# licence only (no cgo, no GL/X11 packages needed).
install-headless: build-headless
	install -Dm755 $(HEADLESS_SRC) $(DESTDIR)$(PREFIX)/bin/$(HEADLESS)
	sed 's|@BINDIR@|$(PREFIX)/bin|' assets/$(UNIT).in > .unit.tmp
	install -Dm644 .unit.tmp $(DESTDIR)$(UNITDIR)/$(UNIT)
	rm -f .unit.tmp
	install -Dm644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/$(BINARY)/LICENSE

# install-files copies the already built binaries (BINARY_SRC,
# HEADLESS_SRC: tests give stand-ins) and the other files.
install-files:
	install -Dm755 $(BINARY_SRC) $(DESTDIR)$(PREFIX)/bin/$(BINARY)
	install -Dm755 $(HEADLESS_SRC) $(DESTDIR)$(PREFIX)/bin/$(HEADLESS)
	install -Dm644 assets/icon-48.png $(ICONDIR)/48x48/apps/$(APP_ID).png
	install -Dm644 assets/icon.png $(ICONDIR)/512x512/apps/$(APP_ID).png
	install -Dm644 assets/icon.svg $(ICONDIR)/scalable/apps/$(APP_ID).svg
	sed 's|@BINDIR@|$(PREFIX)/bin|' assets/plexwarden.desktop.in > .desktop.tmp
	install -Dm644 .desktop.tmp $(DESTDIR)$(PREFIX)/share/applications/$(APP_ID).desktop
	rm -f .desktop.tmp
	sed 's|@BINDIR@|$(PREFIX)/bin|' assets/$(UNIT).in > .unit.tmp
	install -Dm644 .unit.tmp $(DESTDIR)$(UNITDIR)/$(UNIT)
	rm -f .unit.tmp
	install -Dm644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/$(BINARY)/LICENSE

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/$(BINARY) $(DESTDIR)$(PREFIX)/bin/$(HEADLESS) \
	  $(ICONDIR)/48x48/apps/$(APP_ID).png \
	  $(ICONDIR)/512x512/apps/$(APP_ID).png \
	  $(ICONDIR)/scalable/apps/$(APP_ID).svg \
	  $(DESTDIR)$(PREFIX)/share/applications/$(APP_ID).desktop \
	  $(DESTDIR)$(UNITDIR)/$(UNIT) \
	  $(DESTDIR)$(PREFIX)/share/doc/$(BINARY)/LICENSE
	-rmdir $(DESTDIR)$(PREFIX)/share/doc/$(BINARY) 2>/dev/null

clean:
	rm -rf $(BINARY) $(HEADLESS) dist bench.out
