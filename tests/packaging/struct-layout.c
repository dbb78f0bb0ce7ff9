/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every extensible (sz-leading) struct of the public header has no hidden
 * padding: the sizes of its members add up to its size. IOMMUFD_OPTS()
 * relies on it to zero every byte (the library rejects a non-zero byte past
 * the fields it knows), so a new field that would add padding fails here
 * until it comes with an explicit reserved member. A new field not listed
 * here fails too (the sum falls short): add it to the list.
 * Also checks that IOMMUFD_OPTS() leaves every byte but sz zero.
 */
#include <iommufd.h>

#include <stdio.h>
#include <string.h>

static int failed;

#define M(T, f) sizeof(((T *)0)->f)

static void check(const char *name, size_t size, size_t sum)
{
	if (size != sum) {
		printf("%s: sizeof %zu, members %zu: %zu bytes of hidden padding\n", name, size,
		       sum, size - sum);
		failed = 1;
	}
}
#define CHECK(T, sum) check(#T, sizeof(T), (sum))

/* every byte past sz is zero */
static void check_zero(const char *name, const void *p, size_t size)
{
	const unsigned char *b = p;

	for (size_t i = sizeof(size_t); i < size; i++)
		if (b[i]) {
			printf("%s: IOMMUFD_OPTS left byte %zu non-zero\n", name, i);
			failed = 1;
			return;
		}
}
#define CHECK_OPTS(T)                                                          \
	do {                                                                   \
		T o_;                                                          \
		memset(&o_, 0xa5, sizeof(o_));                                 \
		{                                                              \
			IOMMUFD_OPTS(T, x_);                                   \
			memcpy(&o_, &x_, sizeof(o_));                          \
		}                                                              \
		if (o_.sz != sizeof(T)) {                                      \
			printf("%s: sz %zu\n", #T, o_.sz);                     \
			failed = 1;                                            \
		}                                                              \
		check_zero(#T, &o_, sizeof(o_));                               \
	} while (0)

int main(void)
{
	typedef struct iommufd_hwpt_alloc_opts hwpt_opts;
	typedef struct iommufd_device_info dev_info;
	typedef struct iommufd_region_info region_info;
	typedef struct iommufd_irq_info irq_info;
	typedef struct iommufd_hw_info hw_info;
	typedef struct iommufd_viommu_alloc_opts viommu_opts;
	typedef struct iommufd_hw_queue_alloc_opts hwq_opts;
	typedef struct iommufd_veventq_opts veventq_opts;
	typedef struct iommufd_low_power_opts low_power_opts;
	typedef struct iommufd_hot_reset_opts hot_reset_opts;
	typedef struct iommufd_reset_how reset_how;
	typedef struct iommufd_hot_reset_dev hot_reset_dev;

	CHECK(hwpt_opts, M(hwpt_opts, sz) + M(hwpt_opts, flags) + M(hwpt_opts, fault_id) +
				 M(hwpt_opts, data_type) + M(hwpt_opts, data_len) +
				 M(hwpt_opts, data));
	CHECK(dev_info, M(dev_info, sz) + M(dev_info, flags) + M(dev_info, num_regions) +
				M(dev_info, num_irqs) + M(dev_info, reserved));
	CHECK(region_info, M(region_info, sz) + M(region_info, flags) +
				   M(region_info, reserved) + M(region_info, size) +
				   M(region_info, offset));
	CHECK(hw_info, M(hw_info, sz) + M(hw_info, type) + M(hw_info, data_len) +
			       M(hw_info, capabilities) + M(hw_info, max_pasid_log2) +
			       M(hw_info, reserved) + M(hw_info, data));
	/* the vendor structs of the union: no padding either, the union no bigger than raw */
	CHECK(hw_info, sizeof(hw_info) - M(hw_info, data) + M(hw_info, data.raw));
	check("hw_info.data.vtd", M(hw_info, data.vtd),
	      M(hw_info, data.vtd.flags) + M(hw_info, data.vtd.reserved) +
		      M(hw_info, data.vtd.cap_reg) + M(hw_info, data.vtd.ecap_reg));
	check("hw_info.data.tegra241_cmdqv", M(hw_info, data.tegra241_cmdqv),
	      M(hw_info, data.tegra241_cmdqv.flags) + M(hw_info, data.tegra241_cmdqv.version) +
		      M(hw_info, data.tegra241_cmdqv.log2vcmdqs) +
		      M(hw_info, data.tegra241_cmdqv.log2vsids) +
		      M(hw_info, data.tegra241_cmdqv.reserved));
	CHECK(viommu_opts, M(viommu_opts, sz) + M(viommu_opts, flags) + M(viommu_opts, data_len) +
				   M(viommu_opts, data));
	CHECK(hwq_opts, M(hwq_opts, sz) + M(hwq_opts, flags) + M(hwq_opts, reserved));
	CHECK(veventq_opts, M(veventq_opts, sz) + M(veventq_opts, flags) +
				    M(veventq_opts, reserved));
	CHECK(irq_info, M(irq_info, sz) + M(irq_info, flags) + M(irq_info, count));
	CHECK(low_power_opts, M(low_power_opts, sz) + M(low_power_opts, flags) +
				      M(low_power_opts, wakeup_eventfd));
	CHECK(hot_reset_opts, M(hot_reset_opts, sz) + M(hot_reset_opts, flags) +
				      M(hot_reset_opts, nr_group_fds) + M(hot_reset_opts, group_fds));
	CHECK(reset_how, M(reset_how, sz) + M(reset_how, flags) + M(reset_how, method) +
				 M(reset_how, nr_devs) + M(reset_how, nr_group_fds) +
				 M(reset_how, group_fds));
	CHECK(hot_reset_dev, M(hot_reset_dev, segment) + M(hot_reset_dev, bus) +
				     M(hot_reset_dev, devfn) + M(hot_reset_dev, group_id) +
				     M(hot_reset_dev, dev_id) + M(hot_reset_dev, flags));

	CHECK_OPTS(hwpt_opts);
	CHECK_OPTS(dev_info);
	CHECK_OPTS(region_info);
	CHECK_OPTS(irq_info);
	CHECK_OPTS(hw_info);
	CHECK_OPTS(viommu_opts);
	CHECK_OPTS(hwq_opts);
	CHECK_OPTS(veventq_opts);
	CHECK_OPTS(low_power_opts);
	CHECK_OPTS(hot_reset_opts);
	CHECK_OPTS(reset_how);

	if (!failed)
		printf("ok\n");
	return failed;
}
