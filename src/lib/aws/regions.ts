// AWS region names kmsctl knows, to catch a mistyped --region before any request is sent.
import {usageError} from '../errors.js'
import {closest} from '../suggest.js'

/** Commercial, opt-in, GovCloud and China regions. */
export const KNOWN_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
] as const

const SHAPE = /^[a-z]{2}(-[a-z]+)+-\d+$/

/**
 * Checks a region name before any request: a name that is not shaped like a region, or that is
 * one typo away from a known region, is a usage error naming the region meant. A well-formed name
 * far from every known one is accepted (regions are added over time).
 */
export function checkRegion(region: string, source = '--region'): void {
  if ((KNOWN_REGIONS as readonly string[]).includes(region)) return
  const guess = closest(region, KNOWN_REGIONS)
  if (guess || !SHAPE.test(region)) {
    throw usageError(
      `${source} "${region}" is not an AWS region.${guess ? ` Did you mean ${guess}?` : ''}`,
      guess ? `Try this: ${source === '--region' ? `--region ${guess}` : guess}` : 'Try this: --region us-east-1 (the region\'s code, as in the console\'s region menu)',
    )
  }
}
