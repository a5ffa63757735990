<?php
/**
 * Plugin Name:       LuxeBrain Recommendations
 * Description:       Recommendations from LuxeBrain on product and cart pages, with the revenue they cause measured against a hold-out.
 * Version:           0.1.0
 * Requires at least: 6.3
 * Requires PHP:      7.4
 * Author:            LuxeBrain
 * License:           GPL-2.0-or-later
 * Text Domain:       luxebrain
 * WC requires at least: 8.0
 *
 * @package LuxeBrain
 */

defined( 'ABSPATH' ) || exit;

define( 'LUXEBRAIN_VERSION', '0.1.0' );
define( 'LUXEBRAIN_VISITOR_COOKIE', 'luxebrain_visitor' );
define( 'LUXEBRAIN_CLICK_COOKIE', 'luxebrain_attribution' );

require_once __DIR__ . '/includes/placements.php';
require_once __DIR__ . '/includes/attribution.php';
if ( is_admin() ) {
	require_once __DIR__ . '/includes/settings.php';
}

/**
 * A plugin option with its default.
 *
 * @param string $name    Option name without the luxebrain_ prefix.
 * @param mixed  $default Default value.
 * @return mixed
 */
function luxebrain_option( $name, $default = '' ) {
	return get_option( 'luxebrain_' . $name, $default );
}
