<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/custom-classname.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/custom-classname.php';
