# wanjia: one binary, embedded mode by default (SQLite + in-process Redis).
GO        ?= go
BIN       ?= bin/wanjia
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
PG_URL    ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
REDIS_URL ?= redis://127.0.0.1:6379/0
STATICCHECK_VERSION ?= v0.8.2
SPECTRAL_VERSION ?= 6.16.3
# api-lint installs Spectral here, outside the repo, once per version.
SPECTRAL_DIR ?= $(HOME)/.cache/wanjia-spectral/$(SPECTRAL_VERSION)
# make run serves this machine only; set RUN_ADDR=:8080 to open it to the LAN.
RUN_ADDR  ?= 127.0.0.1:8080

.PHONY: run build test test-real test-cluster test-browser bench bench-real lint api-lint migrate docker chart-lint chart-test restore-drill load clean

## run: build and start everything in one process on the embedded mode, with the demo district
run: build
	./$(BIN) all --demo --addr '$(RUN_ADDR)'

## build: the wanjia binary (pure Go, no cgo)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/wanjia

## test: the whole suite on SQLite + in-process Redis, without the race detector (it instruments
## the pure-Go SQLite's transpiled C, which makes the pass ten times slower; test-real races the same
## Go code) and without the browser tests (test-browser)
test:
	$(GO) test -count=1 -timeout 20m ./...

## test-real: the same suite against PostgreSQL and Redis, with the race detector
test-real:
	WANJIA_TEST_DATABASE_URL='$(PG_URL)' WANJIA_TEST_REDIS_URL='$(REDIS_URL)' $(GO) test -race -count=1 -timeout 20m ./...

## test-cluster: the tests that start a three-node Redis Cluster of their own (redis-server and
## redis-cli; skipped elsewhere): two replicas of everything on it, and the sign-in throttle's scripts
## (without the race detector: test-real races the same code, and .ci/run runs both side by side)
test-cluster:
	WANJIA_TEST_REDIS_CLUSTER=1 WANJIA_TEST_DATABASE_URL='$(PG_URL)' $(GO) test -count=1 -timeout 5m \
		-run '^(TestClusterEndToEnd|TestThrottleOnCluster)$$' ./pkg/app/ ./pkg/authn/

## test-browser: the console's browser tests (named TestBrowser…), once, in Debian's chromium
## (apt-get install chromium); the two passes above skip them
test-browser:
	WANJIA_BROWSER=1 $(GO) test -count=1 -timeout 20m -run '^TestBrowser' ./pkg/console/...

## bench: the speed and memory goals, on SQLite + in-process Redis
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-real: the same against PostgreSQL and Redis (the import goals are set there)
bench-real:
	WANJIA_TEST_DATABASE_URL='$(PG_URL)' WANJIA_TEST_REDIS_URL='$(REDIS_URL)' $(GO) test -run '^$$' -bench . -benchmem ./...

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@test -x "$$($(GO) env GOPATH)/bin/staticcheck" || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	"$$($(GO) env GOPATH)/bin/staticcheck" ./...

## api-lint: Spectral (the spectral:oas rules, .spectral.yaml) on pkg/apidoc/openapi.yaml; any error or
## warning fails (installs @stoplight/spectral-cli into $(SPECTRAL_DIR) with npm on first use)
api-lint:
	@test -x '$(SPECTRAL_DIR)/node_modules/.bin/spectral' || { rm -rf '$(SPECTRAL_DIR).tmp' && \
		npm install --prefix '$(SPECTRAL_DIR).tmp' --no-save --no-audit --no-fund --loglevel=error '@stoplight/spectral-cli@$(SPECTRAL_VERSION)' && \
		rm -rf '$(SPECTRAL_DIR)' && mv '$(SPECTRAL_DIR).tmp' '$(SPECTRAL_DIR)'; }
	'$(SPECTRAL_DIR)/node_modules/.bin/spectral' lint --ruleset .spectral.yaml --fail-severity=warn pkg/apidoc/openapi.yaml

## migrate: apply pending migrations to the configured database
migrate: build
	./$(BIN) migrate up

docker:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) -t wanjia:$(VERSION) .

## chart-lint: helm lint of the chart, with its defaults and with each value set of charts/test/testdata
## (installs helm into $(go env GOPATH)/bin on first use: a 3-4 minute build)
chart-lint:
	@test -x "$$($(GO) env GOPATH)/bin/helm" || $(GO) install helm.sh/helm/v3/cmd/helm@v3.22.0
	"$$($(GO) env GOPATH)/bin/helm" lint charts/wanjia
	@set -e; for f in charts/test/testdata/*.yaml; do \
		echo "helm lint --strict charts/wanjia -f $$f"; \
		"$$($(GO) env GOPATH)/bin/helm" lint --strict charts/wanjia -f "$$f"; \
	done
	"$$($(GO) env GOPATH)/bin/helm" template wanjia charts/wanjia -f charts/test/testdata/minimal.yaml >/dev/null

## chart-test: the rendered chart decoded strictly into Kubernetes' own types (charts/test, a module of
## its own; needs the helm that chart-lint installs)
chart-test:
	cd charts/test && $(GO) test -count=1 ./...

## restore-drill: the restore drill of deploy/OPERATIONS.md on the PostgreSQL of PG_URL (a superuser's
## URL): a scratch database migrated and given the demo district, pg_dump, pg_restore into a new one,
## rows, row security and grants compared, both dropped (needs psql, pg_dump and pg_restore; under 60 s
## once wanjia is built)
restore-drill:
	GO='$(GO)' deploy/restore-drill.sh '$(PG_URL)'

## load: the load and fault drill (cmd/wanjia-load; deploy/OPERATIONS.md, "Capacity") on the PostgreSQL of
## PG_URL (a superuser's URL): its own database and redis-server, 2 × serve, worker, scheduler, 20
## communities and 60,000 households, a 2-minute day's mix with a worker SIGKILLed, Redis restarted and
## flushed, an api replica killed and the parts' connections terminated; prints p50/p95/p99 per kind of
## request, messages a second, lost and doubled per fault, and a verdict (about 6 minutes on 2 cores).
## LOAD_FLAGS= for more: -messages, -households, -duration, -rate, -faults (pg-stop is off: it stops the
## whole server, so never on a shared one; with -own-pg the drill initdb's a cluster of its own on a free
## port, which pg-stop stops, and removes it at the end: LOAD_FLAGS='-own-pg -faults pg-stop')
LOAD_FLAGS ?=
load: build
	WANJIA_DATABASE_URL='$(PG_URL)' $(GO) run ./cmd/wanjia-load -wanjia $(BIN) $(LOAD_FLAGS)

clean:
	rm -rf bin

# The web console (pkg/console): its vendored htmx and its screenshots.
HTMX_VERSION ?= 2.0.11
CONSOLE_STATIC := pkg/console/static
.PHONY: vendor-htmx screenshots

## vendor-htmx: fetch htmx.org@$(HTMX_VERSION) from the npm registry (npm checks the tarball's
## integrity) into the console's static files, recording its version and sha256 next to it
vendor-htmx:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent --loglevel=error 'htmx.org@$(HTMX_VERSION)' >/dev/null); \
	tar -xzf "$$tmp/htmx.org-$(HTMX_VERSION).tgz" -C "$$tmp" package/dist/htmx.min.js; \
	cp "$$tmp/package/dist/htmx.min.js" '$(CONSOLE_STATIC)/htmx.min.js'; \
	sum=$$(sha256sum '$(CONSOLE_STATIC)/htmx.min.js' | cut -d' ' -f1); \
	printf 'htmx.org %s\nsha256 %s\n' '$(HTMX_VERSION)' "$$sum" > '$(CONSOLE_STATIC)/htmx.min.js.version'; \
	echo "vendored htmx.org $(HTMX_VERSION), sha256 $$sum"

## screenshots: PNGs of the console's main pages, desktop and phone, into docs/screenshots
## (drives Debian's chromium; legible Chinese needs CJK fonts: apt-get install chromium fonts-noto-cjk)
screenshots:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { echo 'screenshots: no CJK font, the pages would be boxes (apt-get install fonts-noto-cjk)'; exit 1; }
	WANJIA_SCREENSHOTS='$(CURDIR)/docs/screenshots' $(GO) test -count=1 -run '^TestScreenshots$$' ./pkg/console/
