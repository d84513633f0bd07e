<?php
/**
 * WordPress-like lab stub for wp-includes/widgets.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'widgets.php';
