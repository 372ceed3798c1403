# Writes 1000 samples of 256 px (zeros, sample i marked at [i, 0, 0, 0] = i % 256 and [i, 255, 255, 2] = 7) as an .npz.
import numpy as np, sys
n = 1000
a = np.zeros((n, 256, 256, 3), np.uint8)
a[:, 0, 0, 0] = np.arange(n) % 256
a[:, 255, 255, 2] = 7
np.savez(sys.argv[1], arr_0=a, labels=np.arange(n, dtype=np.int64) % 1000)
