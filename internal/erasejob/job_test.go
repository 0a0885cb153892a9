//go:build !anyspec

package erasejob

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// backend is a Redis the tests run against.
type backend struct {
	name string
	rdb  redis.UniversalClient
	mini *miniredis.Miniredis // nil for a real redis-server
}

// backends returns miniredis, and the real redis-server at
// $PAGECALL_TEST_REDIS when it is set, so that each behaviour is pinned
// against both.
func backends(t *testing.T) []backend {
	t.Helper()
	mini := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mini.Addr()})
	t.Cleanup(func() { rdb.Close() })
	out := []backend{{name: "miniredis", rdb: rdb, mini: mini}}
	if addr := os.Getenv("PAGECALL_TEST_REDIS"); addr != "" {
		real := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { real.Close() })
		if err := real.Ping(t.Context()).Err(); err != nil {
			t.Fatalf("PAGECALL_TEST_REDIS=%s: %v", addr, err)
		}
		out = append(out, backend{name: "redis-server", rdb: real})
	}
	return out
}

// newJob returns a job of a name no other test uses, so that tests may
// share a real redis-server; its keys are deleted at the end.
func newJob(t *testing.T, rdb redis.UniversalClient) *Job {
	t.Helper()
	name := strings.NewReplacer("/", "-", "#", "-").Replace(t.Name()) + "-" + rand.Text()[:8]
	j, err := New(rdb, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), j.Keys()...) })
	return j
}

// input is a Lines over ids, one per line, numbered from 1.
func input(ids ...string) Lines {
	return func(fn func(int64, string) error) error {
		for i, id := range ids {
			if err := fn(int64(i+1), id); err != nil {
				return err
			}
		}
		return nil
	}
}

// numbered returns n IDs prefix-00000...
func numbered(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return ids
}

// load loads lines into j as a CLI would: fingerprint, then load.
func load(t *testing.T, j *Job, lines Lines, batch int) LoadResult {
	t.Helper()
	fp, err := Fingerprint(lines)
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.Load(t.Context(), lines, LoadOptions{Fingerprint: fp, Target: "t", Batch: batch, Invalid: invalid})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// invalid refuses "." and "..", as the SDK does.
func invalid(_ int64, id string) []byte {
	if id == "." || id == ".." {
		return fmt.Appendf(nil, `{"id":%q,"outcome":"invalid"}`, id)
	}
	return nil
}

// snapshot returns the keys of b and their values, to show that a refused
// operation changed nothing: every key of a miniredis (which only this test
// uses), the keys of job j on a shared redis-server.
func snapshot(t *testing.T, b backend, j *Job) map[string]string {
	t.Helper()
	ctx := t.Context()
	rdb := b.rdb
	pattern := "*"
	if b.mini == nil {
		pattern = "pagecall:erase:{" + j.name + "}:*"
	}
	out := map[string]string{}
	keys, err := rdb.Keys(ctx, pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		var v string
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "hash":
			v = fmt.Sprint(rdb.HGetAll(ctx, k).Val())
		case "stream":
			v = fmt.Sprint(rdb.XRange(ctx, k, "-", "+").Val(), rdb.XInfoGroups(ctx, k).Val())
		case "zset":
			v = fmt.Sprint(rdb.ZRangeWithScores(ctx, k, 0, -1).Val())
		default:
			v = typ
		}
		out[k] = v
	}
	return out
}

func TestNewRefusesBadNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "-x", "a b", "a}b", "a{b", "a:b", strings.Repeat("x", maxName+1)} {
		if _, err := New(nil, name); !errors.Is(err, ErrBadName) {
			t.Errorf("New(%q): %v, want ErrBadName", name, err)
		}
	}
	for _, name := range []string{"x", "erase-2026.12_07", strings.Repeat("x", maxName)} {
		if _, err := New(nil, name); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
}
