<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-script-modules.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-script-modules.php';
