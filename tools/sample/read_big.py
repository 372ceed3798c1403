# Reads a big samples.npz as ADM evaluator does: labels, the arr_0 header, then arr_0 streamed to its last sample.
import numpy as np, sys, zipfile
path = sys.argv[1]
z = np.load(path)
labels = z['labels']
print('labels', labels.shape, labels[:3].tolist(), labels[-1])
# ADM's evaluator streams arr_0 from the zip member: read its header, then the last sample.
with zipfile.ZipFile(path) as zf:
    info = zf.getinfo('arr_0.npy')
    print('arr_0 member: %d bytes uncompressed, zip64: %s' % (info.file_size, info.file_size > 0xFFFFFFFF))
    with zf.open('arr_0.npy') as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version)
        print('arr_0', shape, dtype, fortran)
        per = 256 * 256 * 3
        last = None
        total = 0
        while True:
            b = f.read(per * 500)
            if not b:
                break
            total += len(b)
            last = b[-per:]
        x = np.frombuffer(last, np.uint8).reshape(256, 256, 3)
        print('read', total // per, 'samples; last sample marker', x[0, 0, 0], x[255, 255, 2])
