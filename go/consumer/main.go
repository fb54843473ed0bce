// eventbench-consumer: a JetStream consumer in Go that reads what eventbench writes and checks it
// (docs/hybrid.md §A consumer in Go). A durable pull consumer with explicit ack reads one JetStream
// stream; every message body is validated against the JSON Schema of its event type (written by
// `eventbench schemas export`) at the schema version it was written with (`metadata.schemaVersion`,
// absent = 1, for the types `index.json` lists under `versions`; the current schema for the others),
// and each subject's `version`s must arrive in order, one after another
// from 1. Prints one JSON summary line; exit 0 when every message validated and every subject was in
// order, 1 otherwise, 2 on bad arguments.
//
// Built offline in GOPATH mode with Debian's packages (golang-go, golang-github-nats-io-go-nats-dev):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o eventbench-consumer ./go/consumer
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

type summary struct {
	Stream          string   `json:"stream"`
	Received        int      `json:"received"`
	Valid           int      `json:"valid"`
	Invalid         int      `json:"invalid"`
	Redelivered     int      `json:"redelivered"`
	OrderViolations int      `json:"orderViolations"`
	Subjects        int      `json:"subjects"`
	Types           []string `json:"types"`
	Errors          []string `json:"errors"`
}

const maxErrors = 20

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS server URL")
	stream := flag.String("stream", "", "JetStream stream to read (e.g. eventbench-case)")
	durable := flag.String("durable", "go-consumer", "durable consumer name")
	schemas := flag.String("schemas", "", "directory written by `eventbench schemas export`")
	expect := flag.Int("expect", 0, "stop after this many messages (0: stop when the stream has nothing more)")
	idle := flag.Duration("idle", 2*time.Second, "stop after this long without a message")
	batch := flag.Int("batch", 100, "messages per fetch")
	flag.Parse()
	if *stream == "" || *schemas == "" {
		fmt.Fprintln(os.Stderr, "eventbench-consumer: -stream and -schemas are required (see -help)")
		os.Exit(2)
	}
	validators, err := loadSchemas(*schemas)
	if err != nil {
		fmt.Fprintf(os.Stderr, "eventbench-consumer: %v\n", err)
		os.Exit(2)
	}
	s, err := consume(*url, *stream, *durable, validators, *expect, *idle, *batch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "eventbench-consumer: %v\n", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(s)
	fmt.Println(string(out))
	if s.Invalid > 0 || s.OrderViolations > 0 || s.Received == 0 {
		os.Exit(1)
	}
}

// Validators are the compiled schemas: the current one per event type, and every schema version of the
// types that have several (type -> version -> schema).
type Validators struct {
	current  map[string]*Schema
	versions map[string]map[int64]*Schema
}

// loadSchemas reads index.json and compiles the schema of every event type it lists, and every version
// it lists under `versions`.
func loadSchemas(dir string) (*Validators, error) {
	var index struct {
		Types    map[string]string            `json:"types"`
		Versions map[string]map[string]string `json:"versions"`
	}
	if err := readJSON(filepath.Join(dir, "index.json"), &index); err != nil {
		return nil, err
	}
	if len(index.Types) == 0 {
		return nil, fmt.Errorf("%s/index.json lists no event types", dir)
	}
	compile := func(file string) (*Schema, error) {
		var raw interface{}
		if err := readJSON(filepath.Join(dir, file), &raw); err != nil {
			return nil, err
		}
		return Compile(raw, file)
	}
	out := &Validators{current: map[string]*Schema{}, versions: map[string]map[int64]*Schema{}}
	for typ, file := range index.Types {
		compiled, err := compile(file)
		if err != nil {
			return nil, err
		}
		out.current[typ] = compiled
	}
	for typ, files := range index.Versions {
		out.versions[typ] = map[int64]*Schema{}
		for v, file := range files {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s/index.json: versions of %q: %q is not a version (1, 2, ...)", dir, typ, v)
			}
			compiled, err := compile(file)
			if err != nil {
				return nil, err
			}
			out.versions[typ][n] = compiled
		}
	}
	return out, nil
}

func readJSON(path string, into interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(into); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

func consume(url, stream, durable string, validators *Validators, expect int, idle time.Duration, batch int) (*summary, error) {
	nc, err := nats.Connect(url, nats.Name("eventbench-go-consumer"))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		return nil, err
	}
	// Durable pull consumer on the whole stream, explicit ack: the same kind of consumer eventbench uses.
	sub, err := js.PullSubscribe("", durable, nats.BindStream(stream), nats.AckExplicit(), nats.DeliverAll())
	if err != nil {
		return nil, fmt.Errorf("pull consumer %s on stream %s: %v", durable, stream, err)
	}
	defer sub.Unsubscribe()

	s := &summary{Stream: stream, Errors: []string{}, Types: []string{}}
	seenTypes := map[string]bool{}
	lastVersion := map[string]int64{}
	fail := func(format string, args ...interface{}) {
		if len(s.Errors) < maxErrors {
			s.Errors = append(s.Errors, fmt.Sprintf(format, args...))
		}
	}
	lastMessage := time.Now()
	for expect == 0 || s.Received < expect {
		msgs, err := sub.Fetch(batch, nats.MaxWait(500*time.Millisecond))
		if err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, err
		}
		if len(msgs) == 0 {
			if time.Since(lastMessage) > idle {
				break
			}
			continue
		}
		lastMessage = time.Now()
		for _, m := range msgs {
			meta, _ := m.Metadata()
			if meta != nil && meta.NumDelivered > 1 {
				s.Redelivered++
			}
			s.Received++
			version, typ, problem := check(m.Data, validators)
			if problem != "" {
				s.Invalid++
				fail("%s seq %d: %s", m.Subject, seqOf(meta), problem)
			} else {
				s.Valid++
				if !seenTypes[typ] {
					seenTypes[typ] = true
					s.Types = append(s.Types, typ)
				}
				// Per subject (= per eventbench stream) the versions come one after another from 1.
				if version != lastVersion[m.Subject]+1 {
					s.OrderViolations++
					fail("%s seq %d: version %d after %d", m.Subject, seqOf(meta), version, lastVersion[m.Subject])
				}
				lastVersion[m.Subject] = version
			}
			if err := m.Ack(); err != nil {
				return nil, fmt.Errorf("ack: %v", err)
			}
		}
	}
	s.Subjects = len(lastVersion)
	return s, nil
}

func seqOf(meta *nats.MsgMetadata) uint64 {
	if meta == nil {
		return 0
	}
	return meta.Sequence.Stream
}

// check validates one body against its type's schema (at the version it was written with, for a type
// with several); returns its version and type, or why it is invalid.
func check(data []byte, validators *Validators) (int64, string, string) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var body interface{}
	if err := d.Decode(&body); err != nil {
		return 0, "", fmt.Sprintf("not JSON: %v", err)
	}
	obj, ok := body.(map[string]interface{})
	if !ok {
		return 0, "", "the body is not a JSON object"
	}
	typ, _ := obj["type"].(string)
	schema, ok := validators.current[typ]
	if byVersion, several := validators.versions[typ]; several {
		written := int64(1) // absent = 1 (docs/hybrid.md §Event schema versions)
		if meta, isObj := obj["metadata"].(map[string]interface{}); isObj {
			if raw, has := meta["schemaVersion"]; has {
				n, isNum := raw.(json.Number)
				v, err := n.Int64()
				if !isNum || err != nil || v < 1 {
					return 0, typ, fmt.Sprintf("metadata.schemaVersion %v is not a version (1, 2, ...)", raw)
				}
				written = v
			}
		}
		if schema, ok = byVersion[written]; !ok {
			return 0, typ, fmt.Sprintf("no schema for event type %q at version %d", typ, written)
		}
	}
	if !ok {
		return 0, typ, fmt.Sprintf("no schema for event type %q", typ)
	}
	if err := schema.Validate(body, "$"); err != nil {
		return 0, typ, err.Error()
	}
	v, _ := obj["version"].(json.Number).Int64()
	return v, typ, ""
}
