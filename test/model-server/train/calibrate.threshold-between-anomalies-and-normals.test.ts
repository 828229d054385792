import { describe, expect, it } from 'vitest';
import { calibrateImage, NORMAL_QUANTILE, quantile } from '../../../src/model-server/train/calibrate.js';

/** 30 held-out normal scores spread evenly over [4, 4.6], with one outlier at 5.3. */
const normals = [...Array.from({ length: 29 }, (_, i) => 4 + (0.6 * i) / 28), 5.3];

describe('image threshold from held-out normals and a few calibration anomalies', () => {
  it('does not let five anomalies that happen to score high put the threshold above the subtler defects', () => {
    // The five calibration anomalies all lie above 4.85; a held-out pinhole at 4.7 is still above
    // nearly every normal part and must be called anomalous.
    const c = calibrateImage(normals, [4.9, 4.95, 5.0, 5.1, 5.4]);
    expect(c.method).toBe('max-f1+normals');
    expect(c.rawThreshold).toBeLessThan(4.7);
    expect(c.rawThreshold).toBeGreaterThan(quantile(normals, NORMAL_QUANTILE));
  });

  it('lets many calibration anomalies outweigh the normals', () => {
    // Forty anomalies above a clear gap over the normals (4.6 to 4.9): the cut stays near the gap's middle.
    const c = calibrateImage(normals, Array.from({ length: 40 }, (_, i) => 4.9 + (0.7 * i) / 39));
    expect(c.rawThreshold).toBeGreaterThan(4.72);
    expect(c.rawThreshold).toBeLessThan(4.75);
  });

  it('with normal images only, stays above every held-out normal score', () => {
    const c = calibrateImage(normals, []);
    expect(c.method).toBe('normal-quantile');
    expect(c.rawThreshold).toBeGreaterThanOrEqual(5.3);
  });

  it('takes the quantile between order statistics', () => {
    expect(quantile([3, 1, 2, 4, 5], 0.5)).toBe(3);
    expect(quantile([0, 10], 0.9)).toBeCloseTo(9);
    expect(quantile([7], 0.9)).toBe(7);
  });
});
