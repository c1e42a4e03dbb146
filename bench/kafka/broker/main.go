// Command kafka-broker runs franz-go's kfake, a Kafka broker written in Go
// that speaks the Kafka wire protocol (produce, fetch, consumer groups,
// offset commits, SASL), on a loopback port: the broker .ci/run starts for
// the kafka:// tests and the streaming predict check, since no Kafka
// broker is packaged for this machine. It is not Kafka: it keeps data in
// memory, runs one process and is not tuned for throughput (see
// docs/sources.md for what that leaves untested).
//
//	go build -o .cache/bin/kafka-broker ./bench/kafka/broker
//	.cache/bin/kafka-broker -addr 127.0.0.1:9092 -topics adult-in,adult-out -partitions 2
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9092", "listen address (loopback)")
	topics := flag.String("topics", "", "comma-separated topics to create at start")
	partitions := flag.Int("partitions", 2, "partitions of each created topic")
	flag.Parse()
	host, portText, err := net.SplitHostPort(*addr)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil {
		fmt.Fprintf(os.Stderr, "kafka-broker: -addr %s: want HOST:PORT\n", *addr)
		os.Exit(2)
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, portText))
		})}
	if *topics != "" {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), strings.Split(*topics, ",")...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafka-broker:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "kafka-broker: listening on %s\n", strings.Join(c.ListenAddrs(), ", "))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	c.Close()
}
