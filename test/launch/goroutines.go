// goroutines: a small Go program (built only when the `go` tool exists; CMakeLists.txt,
// "launch fixtures") -> build/test/launch/goroutines.
//
//	goroutines LEAF
//
// Go's runtime makes its threads with raw clone on stacks of its own, gives each a
// sigaltstack, and preempts long-running goroutines with SIGURG. Eight goroutines spin
// long enough to be preempted and make 25 raw getppid calls each (200 in all: the count a
// test checks exactly, whatever the runtime's own calls); then os/exec runs LEAF
// (a fork+exec by the runtime's raw vfork-style clone) and its output is printed.
// Output is the same in every run.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

func main() {
	runtime.GOMAXPROCS(2)
	var wg sync.WaitGroup
	results := make([]uint64, 8)
	ppid := syscall.Getppid()
	calls := make([]int, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := uint64(g)
			for i := 0; i < 30_000_000; i++ { // long enough for sysmon to preempt it
				x = x*6364136223846793005 + 1442695040888963407
			}
			results[g] = x
			for i := 0; i < 25; i++ {
				r, _, _ := syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
				if int(r) == ppid {
					calls[g]++
				}
			}
		}(g)
	}
	wg.Wait()
	var sum uint64
	total := 0
	for g := 0; g < 8; g++ {
		sum ^= results[g]
		total += calls[g]
	}
	fmt.Printf("goroutines: xor=%x getppid=%d\n", sum, total)
	if len(os.Args) > 1 {
		out, err := exec.Command(os.Args[1], "from-go").Output()
		if err != nil {
			fmt.Printf("goroutines: exec failed: %v\n", err)
			os.Exit(1)
		}
		fmt.Print(string(out))
	}
	fmt.Println("goroutines: ok")
}
