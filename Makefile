# Every target runs from a fresh clone with only Go installed: the tools it
# needs are pinned in go.mod (tool directive) or by version below.
GO      ?= go
PKGS    ?= ./...

.PHONY: all generate check-generated check-deps validate-spec api-listing check-api api-diff build cross-build vet lint actionlint test test-long ci update-spec spec-history spec-sync release-check release

all: build

## generate: regenerate internal/wire and the root package's *.gen.go from api/openapi.yaml + api/overlay.yaml
generate:
	$(GO) generate ./...

## check-generated: regenerate and fail if anything (tracked or untracked) changed
check-generated: generate
	@status=$$(git status --porcelain -- gen internal/wire api generate.go go.mod go.sum otel/go.mod otel/go.sum '*.gen.go' '*.gen_test.go'); \
	if [ -n "$$status" ]; then \
		echo "generated code is stale; run 'make generate' and commit:"; \
		echo "$$status"; git --no-pager diff --stat -- gen internal/wire '*.gen.go' '*.gen_test.go'; exit 1; \
	fi

## api-listing: regenerate api/go-api.txt, the listing of every exported
## identifier of the public packages (root, api, pagecalltest, webhook;
## not cmd/ or internal/), one declaration a line, as Go's api/*.txt. Run it
## after any change to the exported API (make generate included) and commit
## the file with the change: its diff is what reviewers read.
API_LISTING ?= api/go-api.txt
api-listing:
	$(GO) run ./internal/apilist -o $(API_LISTING)

## check-api: fail when api/go-api.txt is not what api-listing would write.
check-api:
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && \
	$(GO) run ./internal/apilist -o "$$tmp" && \
	if ! diff -u $(API_LISTING) "$$tmp"; then \
		echo "$(API_LISTING) is stale: the exported Go API changed (lines - were, + are). Run 'make api-listing' and commit it; 'make api-diff' classifies the change."; exit 1; \
	fi

## api-diff: classify the change of the exported Go API since API_BASE (a
## git revision: the latest release tag v*, or HEAD while there is none) with apidiff, pinned: "Incompatible
## changes" means a new major version (minor while v0), "Compatible
## changes" alone a minor one, nothing a patch (README, Versioning).
## golang.org/x/exp has no release tags: the pseudo-version is the pin
## (cmd/specupdate runs the same one).
APIDIFF  ?= $(GO) run golang.org/x/exp/cmd/apidiff@v0.0.0-20261113113407-e3970619a1a4
API_BASE ?= $(or $(shell git describe --tags --abbrev=0 --match 'v*' 2>/dev/null),HEAD)
MODULE   := github.com/pplink/pagecall-go
api-diff:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	git archive --format=tar $(API_BASE) | tar -x -C "$$tmp" && \
	(cd "$$tmp" && $(APIDIFF) -m -w "$$tmp/base.export" $(MODULE) 2>/dev/null) && \
	out=$$($(APIDIFF) -m "$$tmp/base.export" $(MODULE) 2>/dev/null) && \
	if echo "$$out" | grep -q '^Incompatible changes:'; then class="incompatible: a new major version (minor while v0)"; \
	elif echo "$$out" | grep -q '^Compatible changes:'; then class="compatible: a new minor version"; \
	else class="none: a patch version"; fi && \
	echo "Go API since $(API_BASE): $$class" && { [ -z "$$out" ] || echo "$$out"; }

build:
	$(GO) build $(PKGS)

## cross-build: build the library and the CLI for every platform a release
## ships (.goreleaser.yaml), with the release's settings (no cgo, -trimpath),
## so that code that only compiles on Unix (a signal, a syscall, a path)
## fails here. Objects are discarded; the build cache keeps the next run fast.
## CROSS_PKGS are what users build: the public packages and the CLI (and,
## with them, every internal package they import). The maintainers' tools
## (cmd/specupdate, internal/apilist, internal/modproxy, internal/wirenames,
## scripts/mutaudit) run on CI's Linux and are left out: they link
## libopenapi and oapi-codegen's codegen, most of what six cold builds cost.
CROSS_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
CROSS_PKGS      ?= . ./api ./webhook ./pagecalltest ./redis ./cmd/pagecall
cross-build:
	@for p in $(CROSS_PLATFORMS); do \
		echo "== $$p"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath $(CROSS_PKGS) || exit 1; \
	done

vet:
	$(GO) vet $(PKGS)

## lint: staticcheck, pinned in go.mod's tool directive
lint:
	$(GO) tool staticcheck $(PKGS)

## test: the test command README.md gives: every test, with -short. Under
## -short the few tests that take minutes (LONG_TESTS) skip, or run at a
## smaller size, and make test-long runs them in full. make ci runs both,
## so it still runs every test. spec-history also passes -short, to every
## spec version. TestLongTestsAreListed fails if a test that checks
## testing.Short() is missing from LONG_TESTS.
test:
	$(GO) test -race -short -timeout 30m $(PKGS)

## test-long: the tests that -short skips or shrinks, at full size: the
## spec-sync runs (regenerate, build and test a scratch copy of the module),
## go install into a fresh module cache, a release build of the CLI, the
## operations diff, the 10 s connect and TLS-handshake timeouts, a 10 MiB
## body's allocation, the 10,000-ID kill-and-resume, make consumer's script on a small tree,
## the fleet's 10 s rate measurement (TestFleetRateAccuracy, which skips under
## -race: make test-redis runs it without), and the distributed erasure's kill test.
LONG_TESTS ?= TestConsumerInstallsAsAUser|TestInlineBodyGenerates|TestSync19To20|TestSyncLabelsBreaking|TestDiffOperations|TestVersionGoInstall|TestVersionReleaseBuild|TestDeleteKillAndResume|TestDefaultTransportStepTimeouts|TestHugeBodyAllocation|TestFleetRateAccuracy|TestJobSurvivesAKilledWorker
test-long:
	$(GO) test -race -timeout 30m -run '^($(LONG_TESTS))$$' $(PKGS)

## check-deps: the library must not link an OpenAPI library, kin-openapi or
## libopenapi (the mock and tools may), nor Redis: package pagecallredis
## (redis/) and go-redis are linked only by programs that import them.
check-deps:
	@if $(GO) list -deps . ./internal/wire | grep -Eq 'getkin|pb33f'; then \
		echo "the pagecall package links an OpenAPI library:"; $(GO) list -deps . ./internal/wire | grep -E 'getkin|pb33f'; exit 1; \
	fi
	@if $(GO) list -deps . | grep -Eq '^github.com/redis/go-redis|^github.com/pplink/pagecall-go/redis|redis_rate'; then \
		echo "the pagecall package links Redis:"; $(GO) list -deps . | grep -E '^github.com/redis/go-redis|^github.com/pplink/pagecall-go/redis|redis_rate'; exit 1; \
	fi

## test-redis: the fleet's integration tests (issue 22): separate OS
## processes share limits, and webhook deliveries, through the real
## redis-server at PAGECALL_TEST_REDIS (host:port; .ci/run starts one),
## the long measurements included, with their figures in the log, and two
## CLI processes sharing --rate (TestCLIRateIsTheFleets). Without
## the variable they skip, and under CI=true they fail. Without -race:
## the children are processes of their own, make test runs the package
## with -race, and an instrumented fleet on a shared machine measures the
## machine more than the limiter.
.PHONY: test-redis
test-redis:
	$(GO) test -count=1 -v -run '^TestFleet' ./redis
	$(GO) test -count=1 -v -run '^TestCLIRateIsTheFleets$$' ./cmd/pagecall

## validate-spec: validate api/openapi.yaml (or SPEC) after api/overlay.yaml
## with two independent validators, kin-openapi and pb33f's
## libopenapi-validator (the OpenAPI JSON Schema), so that neither one's
## blind spots (kin-openapi accepts `required: []`) let an invalid document
## through. See docs/SPEC-UPDATES.md.
validate-spec:
	$(GO) run ./cmd/specupdate validate $(or $(SPEC),api/openapi.yaml)

## actionlint: lint the GitHub workflows. shellcheck and pyflakes are turned
## off so that the result does not depend on what else is installed (GitHub's
## runners have shellcheck; a new machine of this project has none).
ACTIONLINT ?= $(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
actionlint:
	$(ACTIONLINT) -shellcheck= -pyflakes= .github/workflows/*.yml

## ci: everything .ci/run checks, in order of cost, one target at a time,
## each with the seconds it took ("ci: TARGET took Ns", also appended to the
## file $CI_TIMES when set: .ci/run prints them together at the end).
## release-check is not in it: see the target.
CI_TARGETS := check-generated check-deps validate-spec check-api build cross-build vet lint actionlint test test-long test-redis fuzz-ci bench-smoke spec-history otel consumer api-compat
ci:
	@for t in $(CI_TARGETS); do \
		start=$$(date +%s); \
		$(MAKE) --no-print-directory $$t || { echo "ci: $$t failed after $$(( $$(date +%s) - start ))s"; exit 1; }; \
		echo "ci: $$t took $$(( $$(date +%s) - start ))s" | tee -a "$${CI_TIMES:-/dev/null}"; \
	done

## otel: the module github.com/pplink/pagecall-go/otel (package
## pagecallotel) has a go.mod of its own, which PKGS=./... does not cross
## into: check that its go.mod and go.sum are tidy, then build, vet, lint
## (the staticcheck pinned in the root go.mod, built into TOOLS_DIR) and
## test it (its benchmark once, as bench-smoke), and check that the pagecall package links no OpenTelemetry.
## Its dependencies come from the module proxy, as the root's do.
TOOLS_DIR ?= $(or $(TMPDIR),/tmp)/pagecall-tools
.PHONY: otel
otel:
	$(GO) build -o $(TOOLS_DIR)/staticcheck honnef.co/go/tools/cmd/staticcheck
	cd otel && $(GO) mod tidy -diff
	cd otel && $(GO) build ./... && $(GO) vet ./... && $(TOOLS_DIR)/staticcheck ./... && $(GO) test -race ./...
	cd otel && $(GO) test -run='^$$' -bench=. -benchmem -benchtime=1x -count=1 ./...
	@if $(GO) list -deps . | grep -q '^go.opentelemetry.io/'; then \
		echo "the pagecall package links OpenTelemetry:"; $(GO) list -deps . | grep '^go.opentelemetry.io/'; exit 1; \
	fi

## bench-otel: what telemetry costs a call: otel's BenchmarkDeleteUserTelemetry
## (no hook, empty hooks, pagecallotel) in BENCH_COUNT interleaved rounds,
## through benchstat with the variants side by side against no hook, and
## BenchmarkTelemetryHooks, the hooks of one call alone (no round trip, so
## steady on a shared machine).
.PHONY: bench-otel
bench-otel:
	@mkdir -p $(BENCH_DIR) && rm -f $(BENCH_DIR)/otel.txt
	cd otel && $(GO) test -c -o $(BENCH_DIR)/pagecallotel.test .
	@for i in $$(seq 1 $(BENCH_COUNT)); do \
		$(BENCH_DIR)/pagecallotel.test -test.run='^$$' -test.bench='^Benchmark(DeleteUserTelemetry|TelemetryHooks)$$' \
			-test.benchmem -test.benchtime=$(BENCH_TIME) -test.count=1 >> $(BENCH_DIR)/otel.txt || exit 1; \
	done
	$(BENCHSTAT) -filter '.name:DeleteUserTelemetry' -col '/hook@(none empty otel)' $(BENCH_DIR)/otel.txt
	$(BENCHSTAT) -filter '.name:TelemetryHooks' $(BENCH_DIR)/otel.txt

## update-spec: take a new Pagecall spec: validate, report breaking changes
## (oasdiff), replace api/openapi.yaml, regenerate, build, vet, test; restores
## api/openapi.yaml and gen/ on any failure. ALLOW_BREAKING=1 accepts breaking
## changes. See docs/SPEC-UPDATES.md.
update-spec:
	@test -n "$(SPEC)" || { echo "usage: make update-spec SPEC=path/to/openapi.yaml [ALLOW_BREAKING=1]"; exit 2; }
	$(GO) run ./cmd/specupdate update -allow-breaking=$(if $(filter 1,$(ALLOW_BREAKING)),true,false) $(SPEC)

## spec-sync: what the spec-sync workflow runs on the document it downloads:
## update-spec's steps, then a Markdown report for the pull request (REPORT)
## and changed=/breaking=/title= lines for the workflow (OUTPUTS). With
## ALLOW_BREAKING=1 breaking changes are taken and labelled. A SPEC equal to
## api/openapi.yaml changes nothing. See docs/SPEC-UPDATES.md.
spec-sync:
	@test -n "$(SPEC)" || { echo "usage: make spec-sync SPEC=path/to/openapi.yaml [ALLOW_BREAKING=1] [REPORT=report.md] [OUTPUTS=file] [SOURCE=text]"; exit 2; }
	$(GO) run ./cmd/specupdate sync -allow-breaking=$(if $(filter 1,$(ALLOW_BREAKING)),true,false) \
		-report='$(REPORT)' -outputs='$(OUTPUTS)' -source='$(SOURCE)' $(SPEC)

## spec-history: regenerate and test (go test -short -tags anyspec, which
## builds every package) every published spec version
## (../shared/specs/pagecall-history) in scratch copies; skips if absent.
spec-history:
	$(GO) run ./cmd/specupdate history

## bench: issues #5 and #9's benchmarks (docs/BENCHMARKS.md). Builds the test binary
## once, then runs BENCH_COUNT rounds; each round is one process that runs
## every variant over every protocol (proto=http, https-h1, https-h2) once,
## so variants and protocols are interleaved in time, and the variants of a
## protocol share one loopback server. b.N is fixed (BENCH_TIME) because the
## naive variant opens a connection (over TLS: a handshake) for about every
## other call at 64 callers; HugeBody moves 10 MiB an op and runs 10x. Raw
## output goes to BENCH_OUT, then benchstat summarises it: all results, then
## for each protocol the variants side by side against the hand-written floor.
BENCH_COUNT ?= 6
BENCH_TIME  ?= 20000x
BENCH_DIR   ?= $(or $(TMPDIR),/tmp)/pagecall-bench
BENCH_OUT   ?= $(BENCH_DIR)/bench.txt
# golang.org/x/perf has no release tags: pin the pseudo-version.
BENCHSTAT   ?= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: bench bench-smoke scale
bench:
	@mkdir -p $(BENCH_DIR) && rm -f $(BENCH_OUT)
	$(GO) test -c -o $(BENCH_DIR)/pagecall.test .
	@echo "# $$(nproc 2>/dev/null) cores, $$($(GO) version), GOARCH=$$($(GO) env GOARCH), load: $$(uptime)" | tee $(BENCH_OUT)
	@for i in $$(seq 1 $(BENCH_COUNT)); do \
		echo "round $$i/$(BENCH_COUNT)"; \
		$(BENCH_DIR)/pagecall.test -test.run='^$$' -test.bench='^Benchmark(DeleteUser|DeleteUserCost|Retries|Methods)$$' \
			-test.benchmem -test.benchtime=$(BENCH_TIME) -test.count=1 > $(BENCH_DIR)/round.txt \
			&& $(BENCH_DIR)/pagecall.test -test.run='^$$' -test.bench='^BenchmarkHugeBody$$' \
			-test.benchmem -test.benchtime=10x -test.count=1 >> $(BENCH_DIR)/round.txt \
			&& $(BENCH_DIR)/pagecall.test -test.run='^$$' -test.bench='^BenchmarkListRoomsSeq$$' \
			-test.benchmem -test.benchtime=5x -test.count=1 >> $(BENCH_DIR)/round.txt \
			|| { cat $(BENCH_DIR)/round.txt; exit 1; }; \
		cat $(BENCH_DIR)/round.txt >> $(BENCH_OUT); \
	done
	$(BENCHSTAT) $(BENCH_OUT)
	@for p in http https-h1 https-h2; do \
		echo "== DeleteUser proto=$$p"; \
		$(BENCHSTAT) -filter ".name:DeleteUser /proto:$$p" -col '/impl@(safe floor sdk gen naive)' $(BENCH_OUT) || exit 1; \
	done
	$(BENCHSTAT) -filter '.name:DeleteUserCost' -col '/step@(floor transport timeout gen sdk)' $(BENCH_OUT)
	$(BENCHSTAT) -filter '.name:Retries' -col '/failures@(none 1in3 1in3-refilled)' $(BENCH_OUT)
	$(BENCHSTAT) -filter '.name:Methods' -col '/via@(check method)' $(BENCH_OUT)
	$(BENCHSTAT) -filter '.name:ListRoomsSeq' -col '/rooms' $(BENCH_OUT)
	@$(MAKE) --no-print-directory bench-otel

## scale: issue #11's measurement, not part of CI: the built CLI deletes
## SCALE_IDS users from a file against the mock (in the test process), and
## the test logs the CLI's peak RSS (VmHWM) and throughput. About 5 minutes
## for a million IDs on 2 cores. See docs/RELIABILITY.md.
SCALE_IDS ?= 1000000
scale:
	PAGECALL_SCALE_IDS=$(SCALE_IDS) $(GO) test -count=1 -run '^TestDeleteScale$$' -v -timeout 2h ./cmd/pagecall

## bench-smoke: for CI: build and run every benchmark once (-benchtime=1x).
bench-smoke:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=1x -count=1 .

## fuzz: run each fuzz target for FUZZTIME (default 10s); the seed corpora
## live in testdata/fuzz and also run as plain tests under 'make test'
FUZZTIME ?= 10s
FUZZ_TARGETS ?= FuzzUserIDPath FuzzParseRetryAfter FuzzErrorMessage
.PHONY: fuzz fuzz-ci
## fuzz-ci: what make ci runs: each target for a number of executions, not a
## duration. With a duration, go1.26's fuzz coordinator can fail a target
## with a bare "context deadline exceeded" when the time runs out on a loaded
## machine (golang/go#75804, fixed in Go 1.27; seen here in .ci/run); a count
## has no deadline to race.
FUZZ_CI_COUNT ?= 20000x
fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZ_CI_COUNT)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "== $$t"; \
		$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) . || exit 1; \
	done

## release-check: validate .goreleaser.yaml, build a snapshot of the CLI for
## this platform as a release would (ldflags and all), and check that the
## binary reports the stamped version and HEAD's commit. goreleaser is pinned
## and run with go run: its first run compiles it (minutes), later runs come
## from the build cache. Not in `make ci`, which must stay fast on a new
## machine; the GitHub CI workflow runs it as a job of its own.
GORELEASER  ?= $(GO) run github.com/goreleaser/goreleaser/v2@v2.15.1
RELEASE_BIN ?= dist/pagecall
.PHONY: release-check release
release-check:
	$(GORELEASER) check
	$(GORELEASER) build --snapshot --clean --single-target --output $(RELEASE_BIN)
	@out=$$($(RELEASE_BIN) version) && echo "$$out" && \
	echo "$$out" | grep -Eq '^pagecall v[0-9]+\.[0-9]+\.[0-9]+-devel\+[0-9a-f]+$$' && \
	echo "$$out" | grep -q "^commit   $$(git rev-parse HEAD) " || \
	{ echo "release-check: $(RELEASE_BIN) does not report the snapshot version and HEAD's commit"; exit 1; }

## release: what the release workflow runs for a pushed tag (needs
## GITHUB_TOKEN; RELEASE_NOTES is a file with the tag's CHANGELOG section).
release:
	$(GORELEASER) release --clean $(if $(RELEASE_NOTES),--release-notes=$(RELEASE_NOTES))

## mutate-diff / mutate: mutation testing with gremlins, a tool that
## generates the mutants (scripts/mutaudit keeps the hand-written list).
## Pinned by version and run with go run, like actionlint, so that go.mod
## stays small. Gremlins first runs the tests with -cover, then runs, for
## each covered mutant, the tests of the mutant's own package (no -race,
## -failfast). A mutant whose tests fail is KILLED, pass LIVED, exceed the
## timeout TIMED OUT (caught, but outside the score), do not compile NOT
## VIABLE. Efficacy = killed / (killed + lived). See docs/RELIABILITY.md.
GREMLINS ?= $(GO) run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
# Never mutated: generated code (tests are never mutated by gremlins).
MUTATE_EXCLUDE ?= -E '\.gen\.go$$' -E '^gen/'
# A mutant's tests get (duration of the coverage run) x this before they
# count as timed out: high, because the machine is shared and a false
# timeout hides a lived mutant. -count=1 keeps the coverage run out of the
# test cache: a cached run takes a second, and every mutant would time out.
MUTATE_TIMEOUT_COEF ?= 5
MUTATE_WORKERS ?= 0
MUTATE_ENV ?= GOFLAGS='$(strip $(GOFLAGS) -count=1)'
MUTATE_FLAGS ?= --timeout-coefficient $(MUTATE_TIMEOUT_COEF) --workers $(MUTATE_WORKERS)
# Statuses printed per mutant (gremlins -S): l lived, c not covered, t timed
# out, v not viable, k killed, s skipped.
MUTATE_SHOW ?= lctv
# mutate-diff fails when the efficacy is below this percentage (0: never).
# Checked here from gremlins' JSON report: gremlins v0.6.0's own
# --threshold-efficacy is not applied (it exits 0 below it), and it would
# fail a diff whose mutants all time out (efficacy 0). Off by default: on a
# diff of a few mutants one lived mutant swings the figure by tens of
# points; read the LIVED lines instead.
MUTATE_THRESHOLD ?= 0
.PHONY: mutate-diff mutate
## mutate-diff: mutate only the lines changed since BASE (default: the merge
## base with main, or origin/main; on main itself with no uncommitted Go
## change, or with neither branch, HEAD~1), uncommitted changes to tracked
## files included. Prints every mutant that was not killed (LIVED, NOT
## COVERED, TIMED OUT, NOT VIABLE) and the score. Fails only when the tool
## fails (a test fails before any mutation, a git error), or below
## MUTATE_THRESHOLD when it is set. The coverage run is the whole module's
## tests (a few minutes); then one package's tests per mutant.
mutate-diff:
	@base='$(BASE)'; \
	if [ -z "$$base" ]; then \
		base=$$(git merge-base HEAD main 2>/dev/null || git merge-base HEAD origin/main 2>/dev/null); \
		if [ -z "$$base" ] || { [ "$$base" = "$$(git rev-parse HEAD)" ] && git diff --quiet HEAD -- '*.go'; }; then \
			base=HEAD~1; \
		fi; \
	fi; \
	git rev-parse --verify -q "$$base^{commit}" >/dev/null || { echo "mutate-diff: BASE=$$base is not a commit"; exit 2; }; \
	files=$$(git diff --merge-base "$$base" --name-only -- '*.go' ':(exclude)*_test.go' ':(exclude)*.gen.go' ':(exclude)gen/*'); \
	echo "mutate-diff: lines changed since $$(git rev-parse --short "$$base") in:"; \
	if [ -z "$$files" ]; then echo "  no non-generated, non-test Go file: nothing to mutate"; exit 0; fi; \
	echo "$$files" | sed 's/^/  /'; \
	report=$$(mktemp) && trap 'rm -f "$$report"' EXIT && \
	$(MUTATE_ENV) $(GREMLINS) unleash --diff "$$base" $(MUTATE_EXCLUDE) -S $(MUTATE_SHOW) $(MUTATE_FLAGS) -o "$$report" || exit $$?; \
	killed=$$(grep -o '"status":"KILLED"' "$$report" | wc -l); \
	lived=$$(grep -o '"status":"LIVED"' "$$report" | wc -l); \
	if [ $(MUTATE_THRESHOLD) -gt 0 ] && [ $$((killed + lived)) -gt 0 ] && \
		[ $$((killed * 100)) -lt $$(( $(MUTATE_THRESHOLD) * (killed + lived) )) ]; then \
		echo "mutate-diff: efficacy $$killed/$$((killed + lived)) is below MUTATE_THRESHOLD=$(MUTATE_THRESHOLD)%"; exit 1; \
	fi

## mutate: the scheduled workflow's full pass, one package at a time, each
## only over its own files (-E '/' leaves out subdirectories). Writes each
## package's log and gremlins' JSON report to MUTATE_OUT; fails only when
## gremlins fails.
MUTATE_PKGS ?= . webhook pagecalltest internal/overlay internal/specid api cmd/pagecall cmd/specupdate scripts/mutaudit
MUTATE_OUT  ?= $(or $(TMPDIR),/tmp)/pagecall-mutate
mutate:
	@mkdir -p $(MUTATE_OUT); status=0; \
	for p in $(MUTATE_PKGS); do \
		name=$$(echo "$$p" | sed 's|^\.$$|root|; s|/|-|g'); \
		echo "== $$p"; \
		{ ( cd $$p && $(MUTATE_ENV) $(GREMLINS) unleash $(MUTATE_EXCLUDE) -E '/' -S $(MUTATE_SHOW) $(MUTATE_FLAGS) \
			-o $(abspath $(MUTATE_OUT))/$$name.json ); echo $$? > $(MUTATE_OUT)/$$name.rc; } \
			2>&1 | tee $(MUTATE_OUT)/$$name.log; \
		[ "$$(cat $(MUTATE_OUT)/$$name.rc)" = 0 ] || { echo "mutate: gremlins failed on $$p"; status=1; }; \
	done; exit $$status

## consumer: install the working tree's modules as a user does, from a
## module proxy on disk at CONSUMER_VERSION (default: v1.0.0-rc.1 before
## the first release tag, then the next patch's -rc.1), into a fresh module with no
## replace, and run a call through pagecalltest with pagecallotel on
## (scripts/consumer.sh). Fails when a nested module requires a version of
## the root that no proxy has. Only the module proxy this machine uses is
## reached, for what its module cache lacks.
CONSUMER_VERSION ?=
.PHONY: consumer api-compat vuln
consumer:
	GO='$(GO)' CONSUMER_VERSION='$(CONSUMER_VERSION)' bash scripts/consumer.sh

## api-compat: for each module (the root, otel), the exported API against
## the module's latest release tag (v* for the root, otel/v* for otel):
## an incompatible change fails unless the module's major version changed
## (or the release is a v0). A no-op, said plainly, while a module has no
## release tag.
api-compat:
	GO='$(GO)' APIDIFF='$(APIDIFF)' bash scripts/apicompat.sh

## vuln: govulncheck (pinned) on every module. Its database is reached over
## the network: when it cannot be reached (as on this project's machines)
## this says so and exits 0; it fails only on vulnerabilities found. Not in
## make ci; the GitHub CI workflow runs it.
## govulncheck is installed into TOOLS_DIR, not run with go run, whose
## exit status would hide govulncheck's (3: vulnerabilities found).
GOVULNCHECK_VERSION ?= v1.9.0
vuln:
	GOBIN=$(abspath $(TOOLS_DIR)) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	GOVULNCHECK='$(abspath $(TOOLS_DIR))/govulncheck' bash scripts/vuln.sh
