# Every target runs from a fresh clone with only Go installed: the tools it
# needs are pinned in go.mod (tool directive) or by version below.
GO      ?= go
PKGS    ?= ./...

.PHONY: all generate check-generated build vet lint test ci update-spec spec-history

all: build

## generate: regenerate gen/ from api/openapi.yaml + api/overlay.yaml
generate:
	$(GO) generate ./...

## check-generated: regenerate and fail if anything (tracked or untracked) changed
check-generated: generate
	@status=$$(git status --porcelain -- gen api generate.go go.mod go.sum); \
	if [ -n "$$status" ]; then \
		echo "generated code is stale; run 'make generate' and commit:"; \
		echo "$$status"; git --no-pager diff --stat -- gen; exit 1; \
	fi

build:
	$(GO) build $(PKGS)

vet:
	$(GO) vet $(PKGS)

## lint: staticcheck, pinned in go.mod's tool directive
lint:
	$(GO) tool staticcheck $(PKGS)

## test: the test command README.md gives
test:
	$(GO) test -race $(PKGS)

ci: check-generated build vet lint test

## update-spec: take a new Pagecall spec: validate, report breaking changes
## (oasdiff), replace api/openapi.yaml, regenerate, build, vet, test; restores
## api/openapi.yaml and gen/ on any failure. ALLOW_BREAKING=1 accepts breaking
## changes. See docs/SPEC-UPDATES.md.
update-spec:
	@test -n "$(SPEC)" || { echo "usage: make update-spec SPEC=path/to/openapi.yaml [ALLOW_BREAKING=1]"; exit 2; }
	$(GO) run ./cmd/specupdate update -allow-breaking=$(if $(filter 1,$(ALLOW_BREAKING)),true,false) $(SPEC)

## spec-history: regenerate, build, vet and test every published spec version
## (../shared/specs/pagecall-history) in scratch copies; skips if absent.
spec-history:
	$(GO) run ./cmd/specupdate history
