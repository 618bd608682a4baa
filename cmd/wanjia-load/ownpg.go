package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// OwnPG is a PostgreSQL cluster of the drill's own (-own-pg): initdb'd in
// a temporary directory, listening on a free port of 127.0.0.1 and in that
// directory's socket, so that the pg-stop fault stops this server and no
// other. Close stops it and removes the directory.
type OwnPG struct {
	Dir  string // the temporary directory: data/, pg.log, the socket
	Port int
	bin  string   // the PostgreSQL binaries' directory
	as   []string // the prefix that runs a command as the cluster's owner
}

// pgBinDir is the newest /usr/lib/postgresql/<version>/bin holding initdb
// and pg_ctl (Debian's layout), or the directory of the initdb in PATH.
func pgBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) int { v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d))); return v }
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
				return d, nil
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("-own-pg: no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or PATH")
}

// StartOwnPG makes and starts the cluster. As root, the cluster belongs to
// the postgres user (PostgreSQL refuses to run as root): the directory is
// given to it and initdb and pg_ctl run through runuser. On an error
// nothing is left: the server is stopped and the directory removed.
func StartOwnPG(ctx context.Context, out func(string, ...any)) (_ *OwnPG, err error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "wanjia-load-pg-")
	if err != nil {
		return nil, err
	}
	pg := &OwnPG{Dir: dir, Port: port, bin: bin}
	defer func() {
		if err != nil {
			pg.Close()
		}
	}()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("-own-pg as root needs a postgres user to own the cluster (PostgreSQL refuses to run as root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("-own-pg: give %s to postgres: %w", dir, err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return nil, errors.New("-own-pg as root needs runuser (util-linux) to run initdb as postgres")
		}
		pg.as = []string{runuser, "-u", "postgres", "--"}
	}
	// Trust on the loopback only: the cluster lives as long as the drill.
	// fsync stays on: pg-stop is a clean stop, and the drill measures the
	// server as a real one would be.
	if o, err := pg.cmd(ctx, filepath.Join(bin, "initdb"), "-D", pg.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale", "C.UTF-8", "--no-instructions").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("-own-pg: initdb: %w\n%s", err, tail(string(o), 20))
	}
	if err := pg.Ctl(ctx, "start"); err != nil {
		return nil, err
	}
	out("own PostgreSQL cluster in %s on 127.0.0.1:%d (%s)", dir, port, bin)
	return pg, nil
}

func (pg *OwnPG) data() string { return filepath.Join(pg.Dir, "data") }

func (pg *OwnPG) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, pg.as...), name), args...)
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Dir = pg.Dir // runuser's postgres may not read the caller's directory
	return c
}

// CtlArgs is the pg_ctl command the pg-stop fault appends stop or start
// to: this cluster's directory, a fast stop (sessions cut, a clean
// shutdown), waiting for either to finish.
func (pg *OwnPG) CtlArgs() []string {
	// The parts open 20 connections each, six parts: more than the
	// default 100.
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c max_connections=300", pg.Port, pg.Dir)
	return append(append([]string{}, pg.as...), filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data(), "-l", filepath.Join(pg.Dir, "pg.log"),
		"-m", "fast", "-w", "-t", "120", "-o", opts)
}

// Ctl runs pg_ctl verb (start, stop) on the cluster.
func (pg *OwnPG) Ctl(ctx context.Context, verb string) error {
	a := append(pg.CtlArgs(), verb)
	c := exec.CommandContext(ctx, a[0], a[1:]...)
	c.Dir = pg.Dir
	if o, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("-own-pg: pg_ctl %s: %w\n%s%s", verb, err, tail(string(o), 10), pg.logTail())
	}
	return nil
}

func (pg *OwnPG) logTail() string {
	b, err := os.ReadFile(filepath.Join(pg.Dir, "pg.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	return "\npg.log:\n" + tail(string(b), 10)
}

// AdminURL is the cluster's superuser URL.
func (pg *OwnPG) AdminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.Port)
}

// Close stops the server, if it runs, at once (immediate: nothing of it is
// kept) and removes the directory.
func (pg *OwnPG) Close() {
	if _, err := os.Stat(filepath.Join(pg.data(), "postmaster.pid")); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		a := append(pg.CtlArgs(), "stop")
		for i, s := range a {
			if s == "fast" {
				a[i] = "immediate"
			}
		}
		c := exec.CommandContext(ctx, a[0], a[1:]...)
		c.Dir = pg.Dir
		_ = c.Run()
		cancel()
	}
	_ = os.RemoveAll(pg.Dir)
}
