package sqlstore

import (
	"context"
	"errors"
	"sync"
)

// MaxGroup bounds the number of items a [Group] writes in one transaction.
const MaxGroup = 256

// Group is a group commit: the items concurrent callers hand to
// [Group.Write] while the previous group's transaction is in flight are
// written together, by one call of Apply in one transaction. Small writes
// from many callers (one metric point per request from many clients) then
// pay for one BEGIN, one COMMIT and one statement of each kind between them
// rather than for their own.
//
// Every caller gets its own answer: nil only once the transaction holding
// its item has committed, and the error of its own item otherwise, never
// another caller's. A Group must not be copied after first use.
type Group[T any] struct {
	// DB is the database written.
	DB *DB
	// Apply writes items in tx. It reports a failure of one item by its
	// entry of the returned slice (nil, or one entry per item; it must then
	// have written nothing for that item) and a failure of the whole
	// transaction by its error. Like the function given to [DB.Write], it
	// must have no effect outside tx: it runs again when the database is
	// busy. ctx carries no caller's values: take what a caller's context
	// holds (the audit actor) into its item.
	Apply func(ctx context.Context, tx *Tx, items []T) ([]error, error)
	// Commit, when set, writes a group in a transaction of its own making
	// instead of Apply in [DB.Write] (e.g. one [DB.Pipelined] round trip),
	// answering as Apply does; it retries a busy database itself.
	Commit func(ctx context.Context, items []T) ([]error, error)
	// Concurrency is the number of groups in flight at once: 1 (the
	// default) commits one group at a time, which suits SQLite's single
	// writer; on PostgreSQL a few groups on their own connections hide
	// each other's round trips. Apply must then take its row locks in an
	// order that cannot deadlock (a deadlock still only retries).
	Concurrency int

	mu      sync.Mutex
	queue   []*groupItem[T]
	running int
}

type groupItem[T any] struct {
	ctx  context.Context
	item T
	err  error
	done chan struct{}
}

// Write writes item with the group it arrives in and returns once that
// group's transaction has committed (nil) or item has failed. When the
// group's transaction as a whole fails with an error that is not the
// database being busy (which retries the group), each of its items is
// written again in a transaction of its own, so a failure is its own
// item's. An item whose ctx is done before its turn is not written and
// returns ctx.Err(); once written, its outcome is the commit's.
func (g *Group[T]) Write(ctx context.Context, item T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &groupItem[T]{ctx: ctx, item: item, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.running < max(1, g.Concurrency) {
		g.running++
		go g.commitAll()
	}
	g.mu.Unlock()
	<-w.done
	return w.err
}

// commitAll commits the queue a group at a time until it is empty.
func (g *Group[T]) commitAll() {
	for {
		g.mu.Lock()
		n := min(len(g.queue), MaxGroup)
		if n == 0 {
			g.running--
			g.queue = nil
			g.mu.Unlock()
			return
		}
		batch := make([]*groupItem[T], n)
		copy(batch, g.queue)
		g.queue = g.queue[n:]
		g.mu.Unlock()
		g.commit(batch)
		for _, w := range batch {
			close(w.done)
		}
	}
}

// commit writes one group and sets each item's error.
func (g *Group[T]) commit(batch []*groupItem[T]) {
	live := make([]*groupItem[T], 0, len(batch))
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	items := make([]T, len(live))
	for i, w := range live {
		items[i] = w.item
	}
	errs, err := g.write(items)
	if err != nil && len(live) > 1 {
		// Not knowing whose item failed the transaction, write each alone.
		for _, w := range live {
			e, err := g.write([]T{w.item})
			w.err = firstErr(e, err)
		}
		return
	}
	for i, w := range live {
		if err != nil {
			w.err = err
		} else if errs != nil {
			w.err = errs[i]
		}
	}
}

// write runs Apply over items in one write transaction.
func (g *Group[T]) write(items []T) ([]error, error) {
	ctx := context.Background()
	if g.Commit != nil {
		errs, err := g.Commit(ctx, items)
		if err == nil && errs != nil && len(errs) != len(items) {
			err = errors.New("group commit: Commit gave the wrong number of item errors")
		}
		return errs, err
	}
	var errs []error
	err := g.DB.Write(ctx, func(tx *Tx) error {
		var err error
		errs, err = g.Apply(ctx, tx, items)
		if err == nil && errs != nil && len(errs) != len(items) {
			err = errors.New("group commit: Apply gave the wrong number of item errors")
		}
		return err
	})
	return errs, err
}

func firstErr(errs []error, err error) error {
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
