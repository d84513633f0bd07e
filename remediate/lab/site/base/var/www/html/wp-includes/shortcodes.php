<?php
/**
 * WordPress-like lab stub for wp-includes/shortcodes.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'shortcodes.php';
