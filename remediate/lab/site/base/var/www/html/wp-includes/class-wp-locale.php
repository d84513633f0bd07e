<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-locale.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-locale.php';

class WP_Locale {
	public $weekday = array( 'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday' );
	public $text_direction = 'ltr';
}
