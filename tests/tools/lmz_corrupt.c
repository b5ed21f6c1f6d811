/* lmz_corrupt: damage one byte of an archive's dataset in place, the way a
 * bad disk would (the HDF5 structure stays intact). Test tool only.
 *
 * usage: lmz_corrupt ARCHIVE payload OFFSET   flip byte OFFSET of /payload
 *        lmz_corrupt ARCHIVE index BYTE       flip byte BYTE of /index's data */
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: lmz_corrupt ARCHIVE payload|index OFFSET\n");
        return 1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    unsigned long long want = strtoull(argv[3], NULL, 10);
    hid_t f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "lmz_corrupt: cannot open %s\n", argv[1]);
        return 1;
    }
    const char *name = strcmp(argv[2], "index") == 0 ? "/index" : "/payload";
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) {
        fprintf(stderr, "lmz_corrupt: no %s\n", name);
        return 1;
    }
    haddr_t at = HADDR_UNDEF;
    hid_t dcpl = H5Dget_create_plist(d);
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t cdim[1];
        H5Pget_chunk(dcpl, 1, cdim);
        hsize_t coord[1] = {(want / cdim[0]) * cdim[0]};
        unsigned mask;
        haddr_t addr;
        hsize_t size;
        if (H5Dget_chunk_info_by_coord(d, coord, &mask, &addr, &size) >= 0 && addr != HADDR_UNDEF)
            at = addr + (want - coord[0]);
    } else {
        haddr_t base = H5Dget_offset(d);
        if (base != HADDR_UNDEF)
            at = base + want;
    }
    H5Pclose(dcpl);
    H5Dclose(d);
    H5Fclose(f);
    if (at == HADDR_UNDEF) {
        fprintf(stderr, "lmz_corrupt: cannot locate byte %llu of %s\n", want, name);
        return 1;
    }
    int fd = open(argv[1], O_RDWR);
    unsigned char b;
    if (fd < 0 || pread(fd, &b, 1, (off_t)at) != 1) {
        fprintf(stderr, "lmz_corrupt: cannot read %s\n", argv[1]);
        return 1;
    }
    b ^= 0x55;
    if (pwrite(fd, &b, 1, (off_t)at) != 1) {
        fprintf(stderr, "lmz_corrupt: cannot write %s\n", argv[1]);
        return 1;
    }
    close(fd);
    return 0;
}
