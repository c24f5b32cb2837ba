package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
)

// engineTests is the store's test suite that runs on both engines, the
// same tests: TestSQLite runs each as a subtest on a SQLite file, and
// TestPostgres on a PostgreSQL database (each store in a schema of its own
// in one database the test environment provides). Inside them, newStore and
// newTarget give a store or a target of the engine the test runs on.
var engineTests = []struct {
	name string
	f    func(*testing.T)
}{
	{"PutExperimentUpserts", testPutExperimentUpserts},
	{"EnsureRuns", testEnsureRuns},
	{"Claim", testClaim},
	{"HeartbeatAndFinishNeedTheOwner", testHeartbeatAndFinishNeedTheOwner},
	{"FinishRunIsOneTransaction", testFinishRunIsOneTransaction},
	{"RunRef", testRunRef},
	{"RunByIDBeatsHashPrefix", testRunByIDBeatsHashPrefix},
	{"RunNames", testRunNames},
	{"RunsFilter", testRunsFilter},
	{"InvalidArguments", testInvalidArguments},
	{"NonFiniteRoundTrip", testNonFiniteRoundTrip},
	{"NegativeZero", testNegativeZero},
	{"MetricUpsertAndTruncate", testMetricUpsertAndTruncate},
	{"MetricDuplicatesInOneFlush", testMetricDuplicatesInOneFlush},
	{"MetricWriterUnknownRun", testMetricWriterUnknownRun},
	{"EachMetricPoint", testEachMetricPoint},
	{"EachMetricPointHoldsNoRead", testEachMetricPointHoldsNoRead},
	{"EachRunMetricPoint", testEachRunMetricPoint},
	{"Vanished", testVanished},
	{"VanishedNewAttempt", testVanishedNewAttempt},
	{"EachMetricPointThen", testEachMetricPointThen},
	{"PutSummariesReplacesKeys", testPutSummariesReplacesKeys},
	{"InfiniteSummaries", testInfiniteSummaries},
	{"Artifacts", testArtifacts},
	{"OwnedArtifacts", testOwnedArtifacts},
	{"OwnedDeletes", testOwnedDeletes},
	{"OwnedMetricWriter", testOwnedMetricWriter},
	{"OwnedWritesRaceClaim", testOwnedWritesRaceClaim},
	{"ParamsOfRuns", testParamsOfRuns},
	{"WhereMatches", testWhereMatches},
	{"WhereUnfinished", testWhereUnfinished},
	{"WhereHostileInput", testWhereHostileInput},
	{"CondKeysAndMapKeys", testCondKeysAndMapKeys},
	{"Keys", testKeys},
	{"RemoveRuns", testRemoveRuns},
	{"RemoveExperiments", testRemoveExperiments},
	{"RemoveCheckpoints", testRemoveCheckpoints},
	{"RemoveRacesClaim", testRemoveRacesClaim},
	{"RemoveAbandonedRuns", testRemoveAbandonedRuns},
	{"Abandoned", testAbandoned},
	{"ConcurrentWorkers", testConcurrentWorkers},
	{"Submit", testSubmit},
	{"ClaimNext", testClaimNext},
	{"ClaimNextMaxAttempts", testClaimNextMaxAttempts},
	{"GaveUpWhoEnded", testGaveUpWhoEnded},
	{"ClaimNextConcurrent", testClaimNextConcurrent},
	{"Copy", testCopy},
	{"CopyLeavesTheQueue", testCopyLeavesTheQueue},
	{"CopyConcurrent", testCopyConcurrent},
	{"CopyBatchesLookups", testCopyBatchesLookups},
	{"CopySourceFails", testCopySourceFails},
	{"CopySpoolFails", testCopySpoolFails},
	{"CopySnapshotHistory", testCopySnapshotHistory},
	{"CopySnapshotRun", testCopySnapshotRun},
	{"CopyReadPanics", testCopyReadPanics},
}

// TestSQLite runs the store's suite on SQLite.
func TestSQLite(t *testing.T) {
	for _, tc := range engineTests {
		t.Run(tc.name, func(t *testing.T) { t.Parallel(); tc.f(t) })
	}
}

// pgBase is the database TestPostgres runs in.
var pgBase struct {
	sync.Mutex
	url string
}

// TestPostgres runs the store's suite on PostgreSQL.
func TestPostgres(t *testing.T) {
	u := testenv.PostgresURL(t)
	pgBase.Lock()
	pgBase.url = u
	pgBase.Unlock()
	for _, tc := range engineTests {
		t.Run(tc.name, func(t *testing.T) { t.Parallel(); tc.f(t) })
	}
	for _, tc := range postgresOnlyTests {
		t.Run(tc.name, tc.f)
	}
}

// engineOf tells which engine the running test is for, from its name:
// TestPostgres/… is PostgreSQL, anything else SQLite.
func engineOf(tb testing.TB) Engine {
	if strings.HasPrefix(tb.Name(), "TestPostgres/") {
		return Postgres
	}
	return SQLite
}

// newTarget returns where a new, empty store for this test goes: a file
// name in a temporary directory, or the URL of a fresh PostgreSQL schema
// (dropped when the test ends).
func newTarget(tb testing.TB) string {
	tb.Helper()
	if engineOf(tb) == SQLite {
		return filepath.Join(tb.TempDir(), "runs.db")
	}
	pgBase.Lock()
	base := pgBase.url
	pgBase.Unlock()
	return pgSchema(tb, base)
}

// pgSchema creates a schema in the database at base and returns base's URL
// with search_path set to it.
func pgSchema(tb testing.TB, base string) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "s_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// newStore opens a fresh store of the test's engine.
func newStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(newTarget(tb))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// setNextRunID makes the next run inserted without an id get id next, as
// an explicit INSERT of run next-1 does on SQLite (PostgreSQL's identity
// sequence does not follow explicit ids).
func setNextRunID(tb testing.TB, s *Store, next int64) {
	tb.Helper()
	if s.Engine() != Postgres {
		return
	}
	if _, err := s.db.Exec(`SELECT setval(pg_get_serial_sequence('runs', 'id'), ?, false)`, next); err != nil {
		tb.Fatal(err)
	}
}
