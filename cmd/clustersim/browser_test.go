//go:build browser

// The browser test renders the review report in a real headless Chromium.
// It needs a chromium binary (Debian: apt-get install chromium); .ci/run
// installs it and runs: go test -tags browser -run Browser ./cmd/clustersim

package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $CHROMIUM, or chromium on the PATH.
func chromium(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatal("no chromium: install it (apt-get install -y chromium) or set $CHROMIUM")
	return ""
}

// profile is an empty Chromium profile directory. Chromium's helper
// processes can still be writing to it for a moment after the browser is
// stopped, so it is removed with a few retries rather than by t.TempDir.
func profile(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "clustersim-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

func TestBrowserReport(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var errb bytes.Buffer
	if err := runReport(context.Background(), &streams{out: &bytes.Buffer{}, err: &errb}, &reportOptions{scenario: "llama3-405b", sets: []string{"trials=8"}, out: page}); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile(t)),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				problems = append(problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		}
	})
	var shot []byte
	var charts int
	var widths []float64
	if err := chromedp.Run(ctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible("#card-days", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("figure svg").length`, &charts),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("figure svg")).map(s => s.getBoundingClientRect().height)`, &widths),
		chromedp.CaptureScreenshot(&shot),
	); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page logged problems: %v", problems)
	}
	if charts != 7 {
		t.Errorf("%d charts rendered, want 7", charts)
	}
	for i, h := range widths {
		if h < 100 {
			t.Errorf("chart %d is %g px high", i, h)
		}
	}
	if out := os.Getenv("SCREENSHOT"); out != "" {
		_ = os.WriteFile(out, shot, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if f := inked(img); f < 0.02 {
		t.Errorf("the screenshot is blank: %.2f%% of its pixels are not background", 100*f)
	}
}

// inked is the fraction of pixels that differ from the top-left one.
func inked(img image.Image) float64 {
	b := img.Bounds()
	bg := color.RGBAModel.Convert(img.At(b.Min.X, b.Min.Y))
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) != bg {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}
